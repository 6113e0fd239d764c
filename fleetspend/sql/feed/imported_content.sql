-- The import that recorded a file's content (sha256), if any: file_name, imported_at.
select file_name, imported_at from ingested_files where sha256 = :sha256
