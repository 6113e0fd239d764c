-- A support engineer renamed or removed by an accounts file.
update staff_users set name = :name, removed_at = :removed_at
where lower(email) = :email
