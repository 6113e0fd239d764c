-- Part of a statement, put in place of an "include" naming it: how old the data of the
-- server answering may be, and whether it still follows the primary (see replica_lag.sql).
-- Columns: is_replica, is_receiving, lag_seconds, lag_bytes, last_replayed_at, as
-- replica_lag.sql says.
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
