-- One attempt at a delivery, logged: success, HTTP status, error and duration.
insert into delivery_attempts (org_id, delivery_id, is_success, status_code, error,
                               duration_ms)
values (:org_id, :delivery_id, :is_success, :status_code, :error, :duration_ms)
