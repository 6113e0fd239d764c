-- A user renamed by an accounts file (emails match case-insensitively).
update users set name = :name
where lower(email) = :email
