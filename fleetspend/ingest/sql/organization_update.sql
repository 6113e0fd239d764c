-- An organization renamed or closed (or reopened) by an accounts file.
update organizations set name = :name, closed_at = :closed_at
where slug = :org
