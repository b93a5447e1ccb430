-- Dependent tables first; each table takes its indexes and constraints with it.
DROP TABLE order_items;
DROP TABLE orders;
DROP TABLE products;
DROP TABLE users;
