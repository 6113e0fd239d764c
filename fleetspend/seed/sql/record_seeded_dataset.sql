-- Records everything in the database now as the seed's own (scale, seed): its organizations
-- and sealed invoices.
insert into seeded_dataset (singleton, scale, seed, org_ids, sealed_invoice_ids)
select true, :scale, :seed,
       coalesce((select array_agg(org_id order by org_id) from organizations), '{}'),
       coalesce((select array_agg(invoice_id order by invoice_id) from invoices
                 where status <> 'draft'), '{}')
on conflict (singleton) do update
set scale = excluded.scale, seed = excluded.seed, loaded_at = now(),
    org_ids = excluded.org_ids, sealed_invoice_ids = excluded.sealed_invoice_ids
