-- How far the server answering this page trails the primary.
-- Returns one row: is_replica; lag_seconds (0 when the replica has replayed all the WAL it
-- received, else the age of the last replayed transaction, null when it has replayed none
-- since it started); lag_bytes (received but not yet replayed); last_replayed_at (UTC, null
-- on the primary).
with position as (
    select
        pg_is_in_recovery() as is_replica,
        pg_last_wal_receive_lsn() as received_lsn,
        pg_last_wal_replay_lsn() as replayed_lsn,
        pg_last_xact_replay_timestamp() as last_replayed_at
),

final as (
    select
        is_replica,
        case
            when not is_replica then 0
            when received_lsn is not null and received_lsn <= replayed_lsn then 0
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
