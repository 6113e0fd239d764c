-- Whether the database holds any organization (demo: seed only an empty database).
select exists (select from organizations)
