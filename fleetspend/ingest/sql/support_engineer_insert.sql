-- A new support engineer from an accounts file.
insert into staff_users (email, name, removed_at)
values (:email, :name, :removed_at)
