-- How old the data of the server answering this page may be, and whether it still follows
-- the primary.
-- Returns one row: is_replica; is_receiving (a WAL receiver streams from the primary; true on
-- the primary itself); lag_seconds (how long ago this server's data was certainly current: 0
-- on the primary and on a replica that is receiving and has replayed all it received, i.e.
-- nothing to replay; otherwise the age of the last replayed transaction against this server's
-- clock, null when it has replayed none since it started); lag_bytes (received but not yet
-- replayed); last_replayed_at (UTC commit time, on the primary's clock, of the last replayed
-- transaction; null on the primary).
-- A replica cut off from its primary keeps the last position it received, so received =
-- replayed alone cannot tell "nothing to replay" from "nothing arriving": the WAL receiver
-- can. Its status is shown only to privileged roles; to others a running receiver is a row.
with receiver as (
    select exists (
        select from pg_stat_wal_receiver
        where coalesce(status, 'streaming') = 'streaming'
    ) as is_streaming
),

position as (
    select
        pg_is_in_recovery() as is_replica,
        pg_last_wal_receive_lsn() as received_lsn,
        pg_last_wal_replay_lsn() as replayed_lsn,
        pg_last_xact_replay_timestamp() as last_replayed_at,
        receiver.is_streaming
    from receiver
),

final as (
    select
        is_replica,
        not is_replica or is_streaming as is_receiving,
        case
            when not is_replica then 0
            when is_streaming and received_lsn <= replayed_lsn then 0
            when last_replayed_at is null then null
            else greatest(0, extract(epoch from clock_timestamp() - last_replayed_at))
        end as lag_seconds,
        case
            when not is_replica then 0
            else greatest(0, coalesce(pg_wal_lsn_diff(received_lsn, replayed_lsn), 0))
        end as lag_bytes,
        last_replayed_at
    from position
)

select * from final
