-- The shop application's database as deployed in staging (demo data): migration 0042 added
-- users.phone, and the orders_status_created index was dropped while testing the new checkout.
PRAGMA foreign_keys = ON;

CREATE TABLE users (
    id          INTEGER PRIMARY KEY,
    email       TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE orders (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    status      TEXT NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'paid', 'shipped', 'cancelled')),
    total_cents INTEGER NOT NULL CHECK (total_cents >= 0),
    created_at  TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE INDEX orders_user_id ON orders(user_id);

CREATE VIEW order_totals AS
    SELECT user_id, count(*) AS orders, sum(total_cents) AS total_cents
    FROM orders WHERE status <> 'cancelled' GROUP BY user_id;

-- migration 0042
ALTER TABLE users ADD COLUMN phone TEXT;

INSERT INTO users (id, email, name, phone) VALUES
    (1, 'test1@example.com', 'Test One', '+1 555 0100'),
    (2, 'test2@example.com', 'Test Two', NULL);
INSERT INTO orders (user_id, status, total_cents) VALUES
    (1, 'new', 100), (2, 'paid', 2500);
