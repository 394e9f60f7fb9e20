-- Tenant schema step 5: when each pending one-time password was issued; it expires
-- `auth.one_time_password_hours` later. Passwords already pending count from the
-- account's last change.
-- Frozen: a released step never changes; a change to the schema is a new step.

CREATE TABLE one_time_passwords (
    user_id   INTEGER PRIMARY KEY REFERENCES staff_users(id) ON DELETE CASCADE,
    issued_at TEXT NOT NULL
);
INSERT INTO one_time_passwords (user_id, issued_at)
    SELECT id, updated_at FROM staff_users WHERE must_change_password = 1;
