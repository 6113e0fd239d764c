-- A new user from an accounts file.
insert into users (email, name)
values (:email, :name)
