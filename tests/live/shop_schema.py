"""A sakila-like shop schema built the way production schemas are, for the replay exactness tests (issue 9).

Every table has `last_update TIMESTAMP DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP`; there are
expression defaults, STORED and VIRTUAL generated columns (indexed), INVISIBLE columns (and on MySQL a generated
invisible primary key), foreign keys with ON DELETE CASCADE / SET NULL (a three-level cascade), BEFORE INSERT
triggers that set columns, AFTER triggers that write other tables, procedures, functions, views and a disabled
event created under their own sql_mode and collation, a MyISAM table converted by a versioned-comment ALTER,
spatial columns with an SRID, utf8mb4 text under binary and case-insensitive collations, a partitioned table, a
table keyed only by a UNIQUE NOT NULL key and one without any key, JSON holding decimals, ENUM/SET with odd
members.

`write_shop(..., triggers=False)` writes the same schema, load and batch without the triggers (customer inserts
name `create_date` themselves, so the rows the batch changes are the same; the tables the triggers fill stay
empty): SQL replay refuses a range whose rows would fire triggers again, so its exactness is checked there.

`write_shop` writes the whole thing on a source: `DROP DATABASE IF EXISTS` / `CREATE DATABASE`, the
schema, a load of a few hundred rows, then a seeded batch of updates, deletes (cascading), inserts (procedure
calls whose triggers write other tables), an explicit `SET last_update = '2020-02-29 23:59:59'` and two updates
of one row in the same second. Every transaction runs under a fixed `SET timestamp`, so CURRENT_TIMESTAMP values
are in the past and a replay that lets the target compute them (replay time) shows up in the row dumps.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pymysql

# Session settings of the schema script (as a dump restore would have them): routines, triggers, views and the
# event keep this sql_mode and these collations in their definitions.
ROUTINE_SQL_MODE = "PIPES_AS_CONCAT,STRICT_TRANS_TABLES,NO_ENGINE_SUBSTITUTION"
DML_SQL_MODE = "STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION"
CONNECTION_COLLATION = "utf8mb4_unicode_ci"
LOAD_EPOCH = 1_700_000_000  # 2023-11-14 22:13:20 UTC: the load's CURRENT_TIMESTAMP
BATCH_EPOCH = 1_710_000_000  # 2024-03-09 16:00:00 UTC: the batch's
EXPLICIT_LAST_UPDATE = "2020-02-29 23:59:59"

# Odd ENUM/SET members: empty string, spaces, quotes, a comma (ENUM only: SET members cannot hold one),
# a backslash.
RATINGS = ("G", "PG", "PG-13", "R", "NC-17", "", " spaced ", "it's", "a,b", "back\\slash")
FEATURES = ("Trailers", "Commentaries", "Deleted Scenes", "Behind the Scenes", "it's", "quote\"d")


def sql_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _members(values: tuple[str, ...]) -> str:
    return ", ".join(sql_string(v) for v in values)


@dataclass(frozen=True)
class Flavor:
    """The syntax that differs between MySQL 9.7 and MariaDB 10.11."""

    name: str

    @property
    def mysql(self) -> bool:
        return self.name == "mysql"

    @property
    def ci_collation(self) -> str:
        return "utf8mb4_0900_ai_ci" if self.mysql else "utf8mb4_unicode_520_ci"

    @property
    def uuid_default(self) -> str:
        return "DEFAULT (uuid())" if self.mysql else "DEFAULT uuid()"

    @property
    def srid(self) -> str:
        return "SRID 4326" if self.mysql else "REF_SYSTEM_ID=4326"

    @property
    def json_type(self) -> str:
        return "JSON"


LAST_UPDATE = "last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP ON UPDATE CURRENT_TIMESTAMP"


def table_statements(f: Flavor) -> list[str]:
    """CREATE TABLE statements in dependency order (the language table starts as MyISAM)."""
    return [
        f"""CREATE TABLE country (
  country_id SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT,
  country VARCHAR(50) NOT NULL,
  code CHAR(2) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  {LAST_UPDATE},
  PRIMARY KEY (country_id),
  UNIQUE KEY uk_country_code (code)
) ENGINE=InnoDB""",
        f"""CREATE TABLE city (
  city_id SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT,
  city VARCHAR(50) NOT NULL,
  country_id SMALLINT UNSIGNED NOT NULL,
  {LAST_UPDATE},
  PRIMARY KEY (city_id),
  KEY idx_fk_country_id (country_id),
  CONSTRAINT fk_city_country FOREIGN KEY (country_id) REFERENCES country (country_id)
    ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB""",
        f"""CREATE TABLE address (
  address_id SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT,
  address VARCHAR(50) NOT NULL,
  district VARCHAR(20) COLLATE {f.ci_collation} NOT NULL DEFAULT '',
  city_id SMALLINT UNSIGNED NULL,
  postal_code VARCHAR(10) DEFAULT NULL,
  location POINT {f.srid} NOT NULL,
  {LAST_UPDATE},
  PRIMARY KEY (address_id),
  KEY idx_fk_city_id (city_id),
  SPATIAL KEY idx_location (location),
  CONSTRAINT fk_address_city FOREIGN KEY (city_id) REFERENCES city (city_id) ON DELETE SET NULL
) ENGINE=InnoDB""",
        f"""CREATE TABLE language (
  language_id TINYINT UNSIGNED NOT NULL AUTO_INCREMENT,
  name CHAR(20) NOT NULL,
  {LAST_UPDATE},
  PRIMARY KEY (language_id)
) ENGINE=MyISAM""",
        f"""CREATE TABLE customer (
  customer_id INT UNSIGNED NOT NULL AUTO_INCREMENT,
  public_id CHAR(36) CHARACTER SET ascii NOT NULL {f.uuid_default},
  first_name VARCHAR(45) NOT NULL,
  last_name VARCHAR(45) NOT NULL,
  email VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL,
  full_name VARCHAR(92) AS (CONCAT(first_name, ' ', last_name)) VIRTUAL,
  email_domain VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin AS (SUBSTRING_INDEX(email, '@', -1)) STORED,
  address_id SMALLINT UNSIGNED DEFAULT NULL,
  active TINYINT(1) NOT NULL DEFAULT 1,
  loyalty_note VARCHAR(40) DEFAULT NULL INVISIBLE,
  create_date DATETIME NOT NULL,
  {LAST_UPDATE},
  PRIMARY KEY (customer_id),
  UNIQUE KEY uk_public_id (public_id),
  UNIQUE KEY uk_email (email),
  KEY idx_full_name (full_name),
  KEY idx_email_domain (email_domain),
  CONSTRAINT fk_customer_address FOREIGN KEY (address_id) REFERENCES address (address_id) ON DELETE SET NULL
) ENGINE=InnoDB""",
        f"""CREATE TABLE customer_audit (
  customer_id INT UNSIGNED NOT NULL,
  old_email VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL,
  new_email VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT NULL,
  changed_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
  {LAST_UPDATE}
) ENGINE=InnoDB""",
        f"""CREATE TABLE film (
  film_id SMALLINT UNSIGNED NOT NULL AUTO_INCREMENT,
  title VARCHAR(128) COLLATE {f.ci_collation} NOT NULL,
  description TEXT COLLATE {f.ci_collation},
  release_year YEAR DEFAULT NULL,
  language_id TINYINT UNSIGNED NOT NULL,
  rental_rate DECIMAL(4,2) NOT NULL DEFAULT 4.99,
  length SMALLINT UNSIGNED DEFAULT NULL,
  rating ENUM({_members(RATINGS)}) DEFAULT 'G',
  special_features SET({_members(FEATURES)}) DEFAULT NULL,
  attrs {f.json_type} DEFAULT NULL,
  price_with_tax DECIMAL(6,2) AS (ROUND(rental_rate * 1.2, 2)) STORED,
  title_len SMALLINT AS (CHAR_LENGTH(title)) VIRTUAL,
  {LAST_UPDATE},
  PRIMARY KEY (film_id),
  KEY idx_title (title),
  KEY idx_price_with_tax (price_with_tax),
  KEY idx_title_len (title_len),
  KEY idx_fk_language_id (language_id)
) ENGINE=InnoDB""",
        f"""CREATE TABLE film_text (
  film_id SMALLINT UNSIGNED NOT NULL,
  title VARCHAR(255) NOT NULL,
  description TEXT,
  {LAST_UPDATE},
  PRIMARY KEY (film_id)
) ENGINE=InnoDB""",
        f"""CREATE TABLE inventory (
  inventory_id MEDIUMINT UNSIGNED NOT NULL AUTO_INCREMENT,
  film_id SMALLINT UNSIGNED NOT NULL,
  store_id TINYINT UNSIGNED NOT NULL,
  {LAST_UPDATE},
  PRIMARY KEY (inventory_id),
  KEY idx_fk_film_id (film_id),
  CONSTRAINT fk_inventory_film FOREIGN KEY (film_id) REFERENCES film (film_id) ON DELETE CASCADE
) ENGINE=InnoDB""",
        f"""CREATE TABLE rental (
  rental_id INT NOT NULL AUTO_INCREMENT,
  rental_date DATETIME NOT NULL,
  inventory_id MEDIUMINT UNSIGNED NOT NULL,
  customer_id INT UNSIGNED NOT NULL,
  return_date DATETIME DEFAULT NULL,
  {LAST_UPDATE},
  PRIMARY KEY (rental_id),
  KEY idx_fk_inventory_id (inventory_id),
  KEY idx_fk_customer_id (customer_id),
  CONSTRAINT fk_rental_inventory FOREIGN KEY (inventory_id) REFERENCES inventory (inventory_id) ON DELETE CASCADE,
  CONSTRAINT fk_rental_customer FOREIGN KEY (customer_id) REFERENCES customer (customer_id) ON DELETE CASCADE
) ENGINE=InnoDB""",
        f"""CREATE TABLE payment (
  payment_id INT NOT NULL AUTO_INCREMENT,
  customer_id INT UNSIGNED NOT NULL,
  rental_id INT DEFAULT NULL,
  amount DECIMAL(5,2) NOT NULL,
  payment_date DATETIME NOT NULL,
  {LAST_UPDATE},
  PRIMARY KEY (payment_id, payment_date),
  KEY idx_rental (rental_id)
) ENGINE=InnoDB
PARTITION BY RANGE (YEAR(payment_date)) (
  PARTITION p2023 VALUES LESS THAN (2024),
  PARTITION p2024 VALUES LESS THAN (2025),
  PARTITION pmax VALUES LESS THAN MAXVALUE
)""",
        f"""CREATE TABLE staff (
  username VARCHAR(16) COLLATE utf8mb4_bin NOT NULL,
  first_name VARCHAR(45) NOT NULL,
  email VARCHAR(50) COLLATE {f.ci_collation} DEFAULT NULL,
  active TINYINT(1) NOT NULL DEFAULT 1,
  {LAST_UPDATE},
  UNIQUE KEY uk_username (username)
) ENGINE=InnoDB""",
        f"""CREATE TABLE tag (
  tag_id INT NOT NULL AUTO_INCREMENT,
  name VARCHAR(40) COLLATE {f.ci_collation} NOT NULL,
  name_bin VARCHAR(40) COLLATE utf8mb4_bin NOT NULL,
  {LAST_UPDATE},
  PRIMARY KEY (tag_id),
  UNIQUE KEY uk_name_bin (name_bin)
) ENGINE=InnoDB""",
    ]


def gipk_table_statements(f: Flavor) -> list[str]:
    """A table without a declared key: MySQL generates an invisible primary key (`my_row_id`); MariaDB has no
    such mode, so there the table declares an invisible auto-increment key itself."""
    if f.mysql:
        return [
            "SET SESSION sql_generate_invisible_primary_key = ON",
            f"CREATE TABLE store_note (store_id TINYINT UNSIGNED NOT NULL, note VARCHAR(200) NOT NULL, {LAST_UPDATE})"
            " ENGINE=InnoDB",
            "SET SESSION sql_generate_invisible_primary_key = OFF",
        ]
    return [
        "CREATE TABLE store_note (my_row_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT INVISIBLE, "
        f"store_id TINYINT UNSIGNED NOT NULL, note VARCHAR(200) NOT NULL, {LAST_UPDATE}, PRIMARY KEY (my_row_id)) "
        "ENGINE=InnoDB",
    ]


def routine_statements(f: Flavor) -> list[str]:
    """Triggers, functions, procedures, views and an event: bodies with `;`, created under ROUTINE_SQL_MODE."""
    return [
        """CREATE TRIGGER customer_create_date BEFORE INSERT ON customer FOR EACH ROW
BEGIN
  SET NEW.create_date = NOW();
  IF NEW.email IS NOT NULL THEN
    SET NEW.loyalty_note = 'new: ' || NEW.email;
  END IF;
END""",
        """CREATE TRIGGER customer_audit_email AFTER UPDATE ON customer FOR EACH ROW
BEGIN
  IF NOT (NEW.email <=> OLD.email) THEN
    INSERT INTO customer_audit (customer_id, old_email, new_email) VALUES (OLD.customer_id, OLD.email, NEW.email);
  END IF;
END""",
        """CREATE TRIGGER ins_film AFTER INSERT ON film FOR EACH ROW
BEGIN
  INSERT INTO film_text (film_id, title, description) VALUES (NEW.film_id, NEW.title, NEW.description);
END""",
        """CREATE TRIGGER upd_film AFTER UPDATE ON film FOR EACH ROW
BEGIN
  IF (OLD.title != NEW.title) OR NOT (OLD.description <=> NEW.description) OR (OLD.film_id != NEW.film_id) THEN
    UPDATE film_text SET title = NEW.title, description = NEW.description, film_id = NEW.film_id
      WHERE film_id = OLD.film_id;
  END IF;
END""",
        """CREATE TRIGGER del_film AFTER DELETE ON film FOR EACH ROW
BEGIN
  DELETE FROM film_text WHERE film_id = OLD.film_id;
END""",
        """CREATE FUNCTION rental_fee(p_inventory_id MEDIUMINT UNSIGNED) RETURNS DECIMAL(5,2)
READS SQL DATA
BEGIN
  DECLARE v_rate DECIMAL(5,2);
  SELECT f.rental_rate INTO v_rate FROM inventory i JOIN film f ON f.film_id = i.film_id
    WHERE i.inventory_id = p_inventory_id;
  RETURN IFNULL(v_rate, 0.99);
END""",
        """CREATE FUNCTION film_label(p_title VARCHAR(128)) RETURNS VARCHAR(160) CHARSET utf8mb4
DETERMINISTIC NO SQL
RETURN 'film: ' || p_title""",
        """CREATE TRIGGER rental_payment AFTER INSERT ON rental FOR EACH ROW
BEGIN
  INSERT INTO payment (customer_id, rental_id, amount, payment_date)
    VALUES (NEW.customer_id, NEW.rental_id, rental_fee(NEW.inventory_id), NEW.rental_date);
END""",
        """CREATE PROCEDURE rent_film(IN p_inventory_id MEDIUMINT UNSIGNED, IN p_customer_id INT UNSIGNED,
  OUT p_rental_id INT)
MODIFIES SQL DATA
BEGIN
  INSERT INTO rental (rental_date, inventory_id, customer_id) VALUES (NOW(), p_inventory_id, p_customer_id);
  SET p_rental_id = LAST_INSERT_ID();
END""",
        """CREATE PROCEDURE return_film(IN p_rental_id INT)
MODIFIES SQL DATA
BEGIN
  UPDATE rental SET return_date = NOW() WHERE rental_id = p_rental_id AND return_date IS NULL;
END""",
        """CREATE VIEW customer_list AS
SELECT cu.customer_id AS id, cu.full_name AS name, a.address, a.postal_code AS `zip code`, ci.city, co.country,
  IF(cu.active, 'active', '') AS notes
FROM customer cu LEFT JOIN address a ON cu.address_id = a.address_id
  LEFT JOIN city ci ON a.city_id = ci.city_id LEFT JOIN country co ON ci.country_id = co.country_id""",
        """CREATE VIEW film_list AS
SELECT f.film_id AS fid, f.title, f.rating, f.special_features, film_label(f.title) AS label,
  COUNT(i.inventory_id) AS copies
FROM film f LEFT JOIN inventory i ON i.film_id = f.film_id GROUP BY f.film_id""",
        """CREATE EVENT purge_audit ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' DISABLE
COMMENT 'keeps 90 days; it''s disabled'
DO BEGIN
  DELETE FROM customer_audit WHERE changed_at < NOW() - INTERVAL 90 DAY;
  DELETE FROM store_note WHERE note = '';
END""",
    ]


def is_trigger(statement: str) -> bool:
    return statement.startswith("CREATE TRIGGER")


TRIGGER_NAMES = ("customer_create_date", "customer_audit_email", "ins_film", "upd_film", "del_film", "rental_payment")


def schema_script(db: str, f: Flavor, triggers: bool = True) -> list[str]:
    """The logged DDL, in order: database, tables, routines (triggers only when `triggers`), the versioned-comment
    engine change, a late FK."""
    return [
        f"DROP DATABASE IF EXISTS `{db}`",
        f"CREATE DATABASE `{db}` DEFAULT CHARACTER SET utf8mb4 COLLATE {f.ci_collation}",
        f"USE `{db}`",
        f"SET NAMES utf8mb4 COLLATE {CONNECTION_COLLATION}",
        f"SET SESSION sql_mode = '{ROUTINE_SQL_MODE}'",
        *table_statements(f),
        *gipk_table_statements(f),
        *(s for s in routine_statements(f) if triggers or not is_trigger(s)),
        f"SET SESSION sql_mode = '{DML_SQL_MODE}'",
    ]


POST_LOAD_DDL = (
    "/*!50610 ALTER TABLE language ENGINE=InnoDB */",
    "ALTER TABLE film ADD CONSTRAINT fk_film_language FOREIGN KEY (language_id) REFERENCES language (language_id)",
)


# ---------------------------------------------------------------------------------------------------------------
# data


class ShopLoad:
    """The seeded load and batch; `cur` is a cursor on the source with the shop database as default."""

    def __init__(self, cur: Any, f: Flavor, seed: int) -> None:
        self.cur = cur
        self.f = f
        self.rnd = random.Random(seed)
        self.clock = LOAD_EPOCH

    # helpers ---------------------------------------------------------------------------------------------------
    def tick(self, seconds: int = 1) -> None:
        """Move the session clock (CURRENT_TIMESTAMP, NOW()) to a fixed point."""
        self.clock += seconds
        self.cur.execute(f"SET timestamp = {self.clock}")

    def txn(self) -> None:
        self.tick()
        self.cur.execute("BEGIN")

    def commit(self) -> None:
        self.cur.execute("COMMIT")

    def ids(self, table: str, column: str) -> list[int]:
        self.cur.execute(f"SELECT {column} FROM {table} ORDER BY {column}")
        return [int(r[0]) for r in self.cur.fetchall()]

    def text(self, n: int) -> str:
        alphabet = "abcdefxyz ABCÉüß'\"\\%_日本🍣"
        return "".join(self.rnd.choice(alphabet) for _ in range(self.rnd.randint(1, n)))

    def point(self) -> str:
        lat, lon = self.rnd.uniform(-89, 89), self.rnd.uniform(-179, 179)
        return f"ST_GeomFromText('POINT({lat:.6f} {lon:.6f})', 4326)"

    def film_attrs(self) -> str:
        """A JSON document with exact decimals (CAST AS DECIMAL keeps the decimal type in MySQL's binary JSON)."""
        price = Decimal(self.rnd.randint(99, 2999)) / 100
        weight = Decimal(f"0.{self.rnd.randint(0, 10**20 - 1):020d}")
        return (f"JSON_OBJECT('price', CAST('{price}' AS DECIMAL(6,2)), 'weight', CAST('{weight}' AS DECIMAL(30,20)), "
                f"'dims', JSON_ARRAY(CAST('1.10' AS DECIMAL(4,2)), 2.5, 'x'), 'tags', JSON_ARRAY())")

    # load --------------------------------------------------------------------------------------------------------
    def load(self) -> None:
        cur, r = self.cur, self.rnd
        self.txn()
        countries = [("Österreich", "AT"), ("Côte d'Ivoire", "CI"), ("日本", "JP"), ("Chile", "CL"), ("France", "FR"),
                     ("Perú", "PE"), ("Norway", "NO"), ("Kenya", "KE"), ("Canada", "CA"), ("Iceland", "IS")]
        cur.executemany("INSERT INTO country (country, code) VALUES (%s, %s)", countries)
        self.commit()
        self.txn()
        for n in range(30):
            cur.execute("INSERT INTO city (city, country_id) VALUES (%s, %s)", (f"City {n} {self.text(6)}",
                                                                               1 + n % len(countries)))
        self.commit()
        self.txn()
        for n in range(60):
            cur.execute(f"INSERT INTO address (address, district, city_id, postal_code, location) VALUES "
                        f"(%s, %s, %s, %s, {self.point()})",
                        (f"{n} Main St", r.choice(["north", "North", "süd", ""]), 1 + n % 30,
                         r.choice([None, f"{r.randint(1000, 99999)}"])))
        self.commit()
        self.txn()
        cur.executemany("INSERT INTO language (name) VALUES (%s)", [("English",), ("Italian",), ("Japanese",),
                                                                    ("Mandarin",), ("French",), ("German",)])
        self.commit()
        self.txn()
        for n in range(60):
            email = None if n % 13 == 0 else f"{'Ann' if n % 2 else 'ann'}.{n}@{r.choice(['x.org', 'X.org', 'y.io'])}"
            cur.execute("INSERT INTO customer (first_name, last_name, email, address_id, active, create_date) VALUES "
                        "(%s, %s, %s, %s, %s, NOW())", (self.text(10), f"Last{n}", email, 1 + n % 60, r.choice([0, 1])))
        self.commit()
        self.txn()
        for n in range(50):
            features = ",".join(sorted(r.sample(FEATURES, r.randint(0, 3)), key=FEATURES.index))
            cur.execute("INSERT INTO film (title, description, release_year, language_id, rental_rate, length, rating, "
                        f"special_features, attrs) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, {self.film_attrs()})",
                        (f"Film {n} {self.text(8)}", r.choice([None, self.text(40)]), r.randint(1990, 2024),
                         1 + n % 6, Decimal(r.randint(99, 999)) / 100, r.randint(40, 180), RATINGS[n % len(RATINGS)],
                         features))
        self.commit()
        self.txn()
        films = self.ids("film", "film_id")
        for n in range(100):
            cur.execute("INSERT INTO inventory (film_id, store_id) VALUES (%s, %s)", (films[n % len(films)], 1 + n % 2))
        self.commit()
        for _ in range(8):
            self.txn()
            for _ in range(10):
                self.rent()
            self.commit()
        self.txn()
        cur.executemany("INSERT INTO staff (username, first_name, email) VALUES (%s, %s, %s)",
                        [("mike", "Mike", "Mike@shop.example"), ("Mike", "Michael", "mike2@shop.example"),
                         ("jon", "Jon", None), ("ÅSA", "Åsa", "asa@shop.example"), ("zoë", "Zoë", "zoe@shop.example")])
        cur.executemany("INSERT INTO tag (name, name_bin) VALUES (%s, %s)",
                        [("café", "café"), ("Straße", "Straße"), ("naïve", "Naïve"), ("sale", "SALE"), ("new", "new")])
        for n in range(12):
            cur.execute("INSERT INTO store_note (store_id, note) VALUES (%s, %s)", (1 + n % 2, self.text(30)))
        self.commit()

    def rent(self) -> None:
        inventory = self.ids("inventory", "inventory_id")
        customers = self.ids("customer", "customer_id")
        self.cur.execute("CALL rent_film(%s, %s, @rid)", (self.rnd.choice(inventory), self.rnd.choice(customers)))

    # batch -------------------------------------------------------------------------------------------------------
    def batch(self, transactions: int = 40) -> None:
        """Seeded updates, cascading deletes, inserts; then the explicit timestamp and the same-second updates."""
        self.clock = BATCH_EPOCH
        ops = [self.update_customer, self.update_film, self.delete_film, self.delete_address, self.insert_customer,
               self.rent_and_return, self.update_misc, self.insert_film]
        for _ in range(transactions):
            self.txn()
            for _ in range(self.rnd.randint(1, 3)):
                self.rnd.choice(ops)()
            self.commit()
        self.txn()  # three levels: country -> city (CASCADE) -> address.city_id (SET NULL)
        self.cur.execute("DELETE FROM country WHERE code = 'CI'")
        self.commit()
        self.txn()  # a customer with rentals: rental rows cascade, payments stay
        self.cur.execute("DELETE FROM customer WHERE customer_id = (SELECT MIN(customer_id) FROM rental)")
        self.commit()
        self.txn()
        self.cur.execute(f"UPDATE customer SET active = 1 - active, last_update = '{EXPLICIT_LAST_UPDATE}' "
                         "WHERE customer_id = (SELECT MAX(customer_id) FROM (SELECT customer_id FROM customer) c)")
        self.commit()
        self.txn()  # two updates of one row in the same second: the second keeps last_update in its image
        film = self.ids("film", "film_id")[0]
        self.cur.execute("UPDATE film SET rental_rate = 1.99 WHERE film_id = %s", (film,))
        self.cur.execute("UPDATE film SET length = IFNULL(length, 0) + 1 WHERE film_id = %s", (film,))
        self.commit()
        self.txn()
        self.cur.execute("UPDATE store_note SET note = CONCAT(note, '!') WHERE store_id = 2")
        self.cur.execute("DELETE FROM store_note WHERE store_id = 1 ORDER BY last_update LIMIT 2")
        self.cur.execute("UPDATE tag SET name = 'Café' WHERE name_bin = 'café'")  # case-only, CI collation
        self.commit()

    def update_customer(self) -> None:
        customer = self.rnd.choice(self.ids("customer", "customer_id"))
        email = self.rnd.choice([None, f"C{customer}@Example.org", f"c{customer}@example.org"])
        self.cur.execute("UPDATE customer SET email = %s, last_name = %s WHERE customer_id = %s",
                         (email, f"Last {self.text(5)}", customer))

    def update_film(self) -> None:
        film = self.rnd.choice(self.ids("film", "film_id"))
        choice = self.rnd.randint(0, 2)
        if choice == 0:
            self.cur.execute(f"UPDATE film SET attrs = {self.film_attrs()}, rating = %s WHERE film_id = %s",
                             (self.rnd.choice(RATINGS), film))
        elif choice == 1:
            self.cur.execute("UPDATE film SET title = %s, special_features = %s WHERE film_id = %s",
                             (f"Retitled {self.text(8)}", self.rnd.choice(["", "it's", "quote\"d,Trailers"]), film))
        else:
            self.cur.execute("UPDATE film SET rental_rate = rental_rate + 0.5 WHERE film_id = %s", (film,))

    def delete_film(self) -> None:
        """inventory (CASCADE) -> rental (CASCADE); the AFTER DELETE trigger deletes film_text."""
        self.cur.execute("DELETE FROM film WHERE film_id = %s", (self.rnd.choice(self.ids("film", "film_id")),))

    def delete_address(self) -> None:
        """customer.address_id is SET NULL by the foreign key."""
        self.cur.execute("DELETE FROM address WHERE address_id = %s",
                         (self.rnd.choice(self.ids("address", "address_id")),))

    def insert_customer(self) -> None:
        n = self.rnd.randint(1000, 999_999)
        self.cur.execute("INSERT IGNORE INTO customer (first_name, last_name, email, address_id, create_date) VALUES "
                         "(%s, %s, %s, (SELECT MAX(address_id) FROM address), NOW())",
                         (self.text(10), f"New{n}", self.rnd.choice([None, f"new{n}@x.org"])))

    def insert_film(self) -> None:
        self.cur.execute("INSERT INTO film (title, language_id, rating, special_features, attrs) VALUES "
                         f"(%s, %s, %s, %s, {self.film_attrs()})",
                         (f"New film {self.text(6)}", self.rnd.randint(1, 6), self.rnd.choice(RATINGS),
                          self.rnd.choice([None, "", "Trailers,it's"])))
        self.cur.execute("INSERT INTO inventory (film_id, store_id) VALUES (LAST_INSERT_ID(), 1)")

    def rent_and_return(self) -> None:
        self.rent()
        self.cur.execute("SELECT @rid")
        self.cur.execute("CALL return_film(%s)", (self.rnd.choice(self.ids("rental", "rental_id")),))

    def update_misc(self) -> None:
        choice = self.rnd.randint(0, 3)
        if choice == 0:
            self.cur.execute("UPDATE language SET name = %s WHERE language_id = %s",
                             (self.text(12), self.rnd.randint(1, 6)))
        elif choice == 1:
            self.cur.execute("UPDATE staff SET active = 1 - active, email = %s WHERE username = %s",
                             (self.rnd.choice([None, "X@shop.example"]), self.rnd.choice(["mike", "Mike", "jon"])))
        elif choice == 2:
            self.cur.execute("UPDATE customer_audit SET new_email = CONCAT(IFNULL(new_email, ''), '.') LIMIT 1")
        else:
            self.cur.execute("INSERT INTO store_note (store_id, note) VALUES (%s, %s)", (2, self.text(20)))


@dataclass(frozen=True)
class ShopRange:
    """Positions on the source: the whole logged range (start..stop) and the batch inside it (batch..stop)."""

    db: str
    start: tuple[str, int]
    schema: tuple[str, int]  # after CREATE DATABASE: the range without the database's own DDL
    batch: tuple[str, int]
    stop: tuple[str, int]


def write_shop(conn: pymysql.connections.Connection, db: str, flavor: str, position: Callable[[Any], tuple[str, int]],
               at_batch: Callable[[], None], seed: int = 9, triggers: bool = True) -> ShopRange:
    """Run the whole script on `conn` (autocommit connection); `position(conn)` reads the binlog position,
    `at_batch()` runs between the load and the batch (to snapshot the state the flashback must restore);
    `triggers=False`: the same shop without its triggers."""
    f = Flavor(flavor)
    with conn.cursor() as cur:
        cur.execute("SET SESSION time_zone = '+00:00'")
        start = position(conn)
        script = schema_script(db, f, triggers)
        for statement in script[:2]:  # DROP DATABASE IF EXISTS, CREATE DATABASE
            cur.execute(statement)
        schema = position(conn)
        for statement in script[2:]:
            cur.execute(statement)
        load = ShopLoad(cur, f, seed)
        load.load()
        for statement in POST_LOAD_DDL:
            load.tick()
            cur.execute(statement)
        batch = position(conn)
        at_batch()
        load.batch()
        stop = position(conn)
    return ShopRange(db, start, schema, batch, stop)
