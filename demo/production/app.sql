-- The shop application's database as deployed in production (demo data).
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
CREATE INDEX orders_status_created ON orders(status, created_at);

CREATE VIEW order_totals AS
    SELECT user_id, count(*) AS orders, sum(total_cents) AS total_cents
    FROM orders WHERE status <> 'cancelled' GROUP BY user_id;

INSERT INTO users (id, email, name) VALUES
    (1, 'ada@example.com', 'Ada'),
    (2, 'grace@example.com', 'Grace');
INSERT INTO orders (user_id, status, total_cents) VALUES
    (1, 'paid', 4200), (1, 'shipped', 1999), (2, 'new', 500);
