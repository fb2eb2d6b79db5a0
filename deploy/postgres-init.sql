-- One database per service: they never share tables (orders lives on MariaDB).
CREATE DATABASE microshop_users;
CREATE DATABASE microshop_catalog;
CREATE DATABASE microshop_notifications;
CREATE DATABASE microshop_payments;
CREATE DATABASE microshop_shipping;
CREATE DATABASE microshop_order_history;
CREATE DATABASE microshop_web;
CREATE DATABASE microshop_ops;
