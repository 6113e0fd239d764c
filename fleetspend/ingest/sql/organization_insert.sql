-- A new organization from an accounts file.
insert into organizations (slug, name, created_at, closed_at)
values (:org, :name, :created_at, :closed_at)
