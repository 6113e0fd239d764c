-- Records a file's content (sha256) as imported under file_name; a content recorded before
-- stays as it was.
insert into ingested_files (sha256, file_name) values (:sha256, :file_name)
on conflict (sha256) do nothing
