DROP TABLE orders;
DROP TABLE users;
DROP TYPE order_status;
