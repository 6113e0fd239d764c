-- Drops staged_machine_usage_anchors if an earlier check of this transaction made it.
drop table if exists staged_machine_usage_anchors
