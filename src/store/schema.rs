//! Schema migrations, applied in order at open; `PRAGMA user_version` holds
//! how many have run. Append new migrations; never edit an applied one.

/// (table, table its triggers write) for the tables whose rows a
/// transaction keeps back (`Db::insert_later`): an update or a delete of
/// the first sends the second's kept rows first. A test checks it against
/// every trigger of the schema.
pub const KEPT_TRIGGERS: &[(&str, &str)] = &[("items", "item_links")];

/// (table, kept table whose rows a delete of the first reaches through
/// foreign keys, `ON DELETE CASCADE` or `SET NULL`, directly or not): a
/// delete of the first sends the second's kept rows first. A test checks
/// it against the schema's foreign keys.
pub const KEPT_CASCADES: &[(&str, &str)] = &[
    ("items", "item_links"),
    ("items", "item_participants"),
    ("items", "item_references"),
    ("items", "item_attachments"),
    ("items", "item_sources"),
    ("items", "contact_proposals"),
    ("clients", "item_links"),
    ("clients", "contact_proposals"),
    ("contacts", "item_links"),
    ("contacts", "contact_proposals"),
];

/// Each thread's last live mail and whether it waits, as migration 20
/// fills `thread_last` (a test holds the two texts together): what
/// `Store::thread_last_drift` compares the table with, and what a repair
/// writes.
pub const THREAD_LAST_WANT: &str = r#"SELECT i.thread_id, i.id, i.date,
       i.direction = 'in' AND (instr(i.extra, '"invitation"') = 0 OR json_extract(i.extra, '$.invitation') IS NULL)
FROM (SELECT DISTINCT thread_id FROM items WHERE thread_id IS NOT NULL AND kind = 'email' AND deleted_at IS NULL) t
JOIN items i ON i.id = (SELECT x.id FROM items x
                        WHERE x.thread_id = t.thread_id AND x.kind = 'email' AND x.deleted_at IS NULL
                        ORDER BY x.date DESC, x.id DESC LIMIT 1)"#;

pub const MIGRATIONS: &[&str] = &[
    // 1: directory, items, links, sources, cursors.
    r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE clients (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL,
    name_key      TEXT NOT NULL UNIQUE,      -- folded name: duplicates are refused
    ico           TEXT UNIQUE,
    dic           TEXT,
    address       TEXT,
    billing       TEXT,
    status        TEXT NOT NULL CHECK (status IN ('lead', 'client')),
    annual_budget REAL,
    custom        TEXT NOT NULL DEFAULT '{}', -- JSON object, values checked against config
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE client_domains (
    client_id INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    domain    TEXT NOT NULL,
    PRIMARY KEY (client_id, domain)
);
CREATE INDEX client_domains_domain ON client_domains(domain);

-- Addresses of the company itself (info@, fakturace@), not of a person.
CREATE TABLE client_emails (
    client_id INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    email     TEXT NOT NULL,
    PRIMARY KEY (client_id, email)
);
CREATE INDEX client_emails_email ON client_emails(email);

CREATE TABLE contacts (
    id        INTEGER PRIMARY KEY,
    client_id INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    name      TEXT NOT NULL,
    phone     TEXT,
    role      TEXT
);
CREATE INDEX contacts_client ON contacts(client_id);

CREATE TABLE contact_emails (
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    email      TEXT NOT NULL,
    PRIMARY KEY (contact_id, email)
);
CREATE INDEX contact_emails_email ON contact_emails(email);

-- The history. `rev` grows on every change of an item or its links, so the
-- search index can catch up from the highest rev it has committed.
CREATE TABLE items (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    message_id   TEXT,
    thread_id    INTEGER,
    date         TEXT NOT NULL,               -- RFC 3339, UTC
    date_source  TEXT NOT NULL DEFAULT 'header',
    direction    TEXT NOT NULL CHECK (direction IN ('in', 'out', 'internal')),
    subject      TEXT NOT NULL DEFAULT '',
    body         TEXT NOT NULL DEFAULT '',
    content_hash TEXT NOT NULL,
    size         INTEGER NOT NULL DEFAULT 0,
    extra        TEXT NOT NULL DEFAULT '{}', -- kind-specific JSON (event times, note origin…)
    deleted_at   TEXT,
    created_at   TEXT NOT NULL,
    rev          INTEGER NOT NULL
);
CREATE INDEX items_message_id ON items(message_id);
CREATE INDEX items_hash ON items(content_hash);
CREATE INDEX items_thread ON items(thread_id);
CREATE INDEX items_date ON items(date);
CREATE INDEX items_rev ON items(rev);

CREATE TABLE item_participants (
    item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    role    TEXT NOT NULL,
    name    TEXT,
    address TEXT NOT NULL,
    rdomain TEXT NOT NULL                     -- reversed domain labels: cz.acme.mail
);
CREATE INDEX item_participants_item ON item_participants(item_id);
CREATE INDEX item_participants_address ON item_participants(address);
CREATE INDEX item_participants_rdomain ON item_participants(rdomain);

CREATE TABLE item_references (
    item_id    INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    message_id TEXT NOT NULL,
    PRIMARY KEY (item_id, message_id)
);

CREATE TABLE item_attachments (
    item_id      INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    mime         TEXT NOT NULL,
    size         INTEGER NOT NULL,
    content_hash TEXT NOT NULL
);
CREATE INDEX item_attachments_item ON item_attachments(item_id);

CREATE TABLE item_links (
    item_id    INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    client_id  INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    contact_id INTEGER REFERENCES contacts(id) ON DELETE CASCADE,
    reason     TEXT NOT NULL,
    ambiguous  INTEGER NOT NULL DEFAULT 0,
    evidence   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX item_links_item ON item_links(item_id);
CREATE INDEX item_links_client ON item_links(client_id);
CREATE INDEX item_links_contact ON item_links(contact_id);

-- Where an item was seen: (source, key) is the source's identity for it,
-- e.g. ('imap:work/INBOX', '1700000000/42') or ('maildir:/x', 'cur/123.abc').
CREATE TABLE item_sources (
    source  TEXT NOT NULL,
    key     TEXT NOT NULL,
    item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
    seen_at TEXT NOT NULL,
    gone_at TEXT,
    PRIMARY KEY (source, key)
);
CREATE INDEX item_sources_item ON item_sources(item_id);

-- Message-ID → thread, including ids only seen in References (missing parents).
CREATE TABLE thread_ids (
    message_id TEXT PRIMARY KEY,
    thread_id  INTEGER NOT NULL
);
CREATE INDEX thread_ids_thread ON thread_ids(thread_id);

CREATE TABLE cursors (
    source     TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
"#,
    // 2: what each source last did, for `kronika status`.
    r#"
CREATE TABLE source_status (
    source       TEXT PRIMARY KEY,
    state        TEXT NOT NULL,
    last_success TEXT,
    last_error   TEXT,
    last_error_at TEXT,
    counts       TEXT NOT NULL DEFAULT '{}',
    updated_at   TEXT NOT NULL
);
"#,
    // 3: reminders before client meetings and follow-ups, with one delivery
    // record per sink, so that each fires once and each sink gets it once.
    r#"
CREATE TABLE reminders (
    id          INTEGER PRIMARY KEY,
    key         TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    item_id     INTEGER REFERENCES items(id) ON DELETE SET NULL,
    client_id   INTEGER REFERENCES clients(id) ON DELETE SET NULL,
    title       TEXT NOT NULL,
    due_at      TEXT NOT NULL,
    event_start TEXT,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'fired', 'missed', 'cancelled')),
    fired_at    TEXT,
    payload     TEXT
);
CREATE INDEX reminders_due ON reminders(state, due_at);

CREATE TABLE reminder_deliveries (
    reminder_id INTEGER NOT NULL REFERENCES reminders(id) ON DELETE CASCADE,
    sink        TEXT NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    next_try    TEXT,
    PRIMARY KEY (reminder_id, sink)
);
"#,
    // 4: the client record: legal form from ARES, deals.
    r#"
ALTER TABLE clients ADD COLUMN legal_form TEXT;

CREATE TABLE deals (
    id          INTEGER PRIMARY KEY,
    client_id   INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    title       TEXT NOT NULL,
    value       REAL NOT NULL CHECK (value >= 0),
    currency    TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('open', 'won', 'lost')),
    date        TEXT NOT NULL,
    products    TEXT NOT NULL DEFAULT '[]',
    number      TEXT,
    import_key  TEXT UNIQUE,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX deals_client ON deals(client_id);
"#,
    // 5: the directory's version, bumped by every change to clients,
    // domains, addresses and contacts, from whatever process makes it: a
    // long-running process rebuilds its matcher when the number moves.
    r#"
CREATE TABLE directory_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT INTO directory_version (id, version) VALUES (1, 0);
CREATE TRIGGER clients_insert_bumps_directory AFTER INSERT ON clients
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER clients_update_bumps_directory AFTER UPDATE OF name, ico ON clients
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER clients_delete_bumps_directory AFTER DELETE ON clients
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER client_domains_insert_bumps_directory AFTER INSERT ON client_domains
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER client_domains_update_bumps_directory AFTER UPDATE ON client_domains
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER client_domains_delete_bumps_directory AFTER DELETE ON client_domains
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER client_emails_insert_bumps_directory AFTER INSERT ON client_emails
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER client_emails_update_bumps_directory AFTER UPDATE ON client_emails
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER client_emails_delete_bumps_directory AFTER DELETE ON client_emails
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER contacts_insert_bumps_directory AFTER INSERT ON contacts
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER contacts_update_bumps_directory AFTER UPDATE OF name, client_id ON contacts
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER contacts_delete_bumps_directory AFTER DELETE ON contacts
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER contact_emails_insert_bumps_directory AFTER INSERT ON contact_emails
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER contact_emails_update_bumps_directory AFTER UPDATE ON contact_emails
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TRIGGER contact_emails_delete_bumps_directory AFTER DELETE ON contact_emails
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
"#,
    // 6: users of the web interface and their sessions. A session is kept
    // by the SHA-256 of its cookie value, never the value itself.
    r#"
CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    email         TEXT NOT NULL,
    admin         INTEGER NOT NULL DEFAULT 0,
    password_hash TEXT NOT NULL,             -- Argon2id, PHC string
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,             -- hex SHA-256 of the cookie value
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
"#,
    // 7: a client's timeline without reading all its items: each link
    // carries its item's date, kind and liveness (copied by triggers, so
    // no writer has to), indexed by client, and by contact, in date order.
    // The card's queries then read only the rows they return.
    r#"
ALTER TABLE item_links ADD COLUMN date TEXT NOT NULL DEFAULT '';
ALTER TABLE item_links ADD COLUMN kind TEXT NOT NULL DEFAULT '';
ALTER TABLE item_links ADD COLUMN live INTEGER NOT NULL DEFAULT 1;
UPDATE item_links SET
    date = (SELECT i.date FROM items i WHERE i.id = item_links.item_id),
    kind = (SELECT i.kind FROM items i WHERE i.id = item_links.item_id),
    live = (SELECT i.deleted_at IS NULL FROM items i WHERE i.id = item_links.item_id);
CREATE INDEX item_links_client_date ON item_links(client_id, live, date, item_id);
CREATE INDEX item_links_client_kind ON item_links(client_id, live, kind, date, item_id);
CREATE INDEX item_links_contact_date ON item_links(contact_id, live, date);
DROP INDEX item_links_client;
CREATE INDEX item_links_client_item ON item_links(client_id, item_id);
CREATE TRIGGER item_links_copy_item AFTER INSERT ON item_links
BEGIN
    UPDATE item_links SET
        date = (SELECT i.date FROM items i WHERE i.id = NEW.item_id),
        kind = (SELECT i.kind FROM items i WHERE i.id = NEW.item_id),
        live = (SELECT i.deleted_at IS NULL FROM items i WHERE i.id = NEW.item_id)
    WHERE rowid = NEW.rowid;
END;
CREATE TRIGGER items_copy_to_links AFTER UPDATE OF date, kind, deleted_at ON items
BEGIN
    UPDATE item_links SET date = NEW.date, kind = NEW.kind, live = NEW.deleted_at IS NULL
    WHERE item_id = NEW.id;
END;
"#,
    // 8: what comes by itself (issue 13). Contacts found in mail (origin
    // `mail`), their titles, where a phone or position came from (`manual`
    // is never overwritten), and what mail proposes for them (phones,
    // positions, a second address of the same person); deals from
    // invoices: a credit note is negative (the old CHECK refused that, so
    // the table is rebuilt), a purchase (an invoice a client sent us) is
    // kept apart from sales, and a deal remembers the document it came
    // from; invoices read from PDF text wait as proposals.
    r#"
ALTER TABLE contacts ADD COLUMN title_before TEXT;
ALTER TABLE contacts ADD COLUMN title_after TEXT;
ALTER TABLE contacts ADD COLUMN origin TEXT NOT NULL DEFAULT 'manual';
ALTER TABLE contacts ADD COLUMN phone_source TEXT;
ALTER TABLE contacts ADD COLUMN role_source TEXT;
ALTER TABLE contacts ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
UPDATE contacts SET phone_source = 'manual' WHERE phone IS NOT NULL;
UPDATE contacts SET role_source = 'manual' WHERE role IS NOT NULL;
CREATE INDEX contacts_name_key ON contacts(name_key);

CREATE TABLE contact_proposals (
    id         INTEGER PRIMARY KEY,
    contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    field      TEXT NOT NULL CHECK (field IN ('phone', 'role', 'address')),
    value      TEXT NOT NULL,
    item_id    INTEGER REFERENCES items(id) ON DELETE SET NULL,
    status     TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'applied', 'accepted', 'dismissed')),
    created_at TEXT NOT NULL,
    UNIQUE (contact_id, field, value)
);
CREATE INDEX contact_proposals_status ON contact_proposals(status, contact_id);

-- Addresses a person took away from a contact, or whose contact they
-- removed: mail from them never makes or joins a contact by itself again.
CREATE TABLE auto_contacts_refused (
    email      TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);

CREATE TABLE deals_v8 (
    id          INTEGER PRIMARY KEY,
    client_id   INTEGER NOT NULL REFERENCES clients(id) ON DELETE CASCADE,
    title       TEXT NOT NULL,
    value       REAL NOT NULL,
    currency    TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('open', 'won', 'lost')),
    date        TEXT NOT NULL,
    products    TEXT NOT NULL DEFAULT '[]',
    number      TEXT,
    import_key  TEXT UNIQUE,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    side        TEXT NOT NULL DEFAULT 'sale' CHECK (side IN ('sale', 'purchase')),
    origin      TEXT NOT NULL DEFAULT 'manual',
    item_id     INTEGER REFERENCES items(id) ON DELETE SET NULL,
    details     TEXT NOT NULL DEFAULT '{}'
);
INSERT INTO deals_v8 (id, client_id, title, value, currency, status, date, products, number, import_key, created_at, updated_at, origin)
    SELECT id, client_id, title, value, currency, status, date, products, number, import_key, created_at, updated_at,
           CASE WHEN import_key IS NULL THEN 'manual' ELSE 'import' END
    FROM deals;
DROP TABLE deals;
ALTER TABLE deals_v8 RENAME TO deals;
CREATE INDEX deals_client ON deals(client_id);

CREATE TABLE deal_proposals (
    id         INTEGER PRIMARY KEY,
    client_id  INTEGER REFERENCES clients(id) ON DELETE CASCADE,
    item_id    INTEGER NOT NULL UNIQUE REFERENCES items(id) ON DELETE CASCADE,
    side       TEXT NOT NULL CHECK (side IN ('sale', 'purchase')),
    number     TEXT NOT NULL,
    value      REAL NOT NULL,
    currency   TEXT NOT NULL,
    date       TEXT NOT NULL,
    credit     INTEGER NOT NULL DEFAULT 0,
    status     TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'confirmed', 'dismissed')),
    deal_id    INTEGER REFERENCES deals(id) ON DELETE SET NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX deal_proposals_status ON deal_proposals(status);
"#,
    // 9: threads waiting for a reply without reading every mail of them:
    // each link also carries its item's thread, indexed by client, and
    // the last live mail of a thread is one step down a partial index
    // that holds its date, id and direction. Writers give a link its
    // item's fields in the insert itself (`LINK_INSERT`); the trigger of
    // migration 7 only fills links that came without them, instead of
    // rewriting every new link and its three indexes.
    r#"
ALTER TABLE item_links ADD COLUMN thread_id INTEGER;
UPDATE item_links SET thread_id = (SELECT i.thread_id FROM items i WHERE i.id = item_links.item_id);
DROP INDEX item_links_client_item;
CREATE INDEX item_links_client_item ON item_links(client_id, item_id, thread_id);
CREATE INDEX item_links_client_thread ON item_links(client_id, thread_id) WHERE thread_id IS NOT NULL;
CREATE INDEX items_thread_last ON items(thread_id, date, id, direction) WHERE kind = 'email' AND deleted_at IS NULL;
DROP TRIGGER item_links_copy_item;
CREATE TRIGGER item_links_copy_item AFTER INSERT ON item_links WHEN NEW.date = ''
BEGIN
    UPDATE item_links SET
        date = (SELECT i.date FROM items i WHERE i.id = NEW.item_id),
        kind = (SELECT i.kind FROM items i WHERE i.id = NEW.item_id),
        live = (SELECT i.deleted_at IS NULL FROM items i WHERE i.id = NEW.item_id),
        thread_id = (SELECT i.thread_id FROM items i WHERE i.id = NEW.item_id)
    WHERE rowid = NEW.rowid;
END;
DROP TRIGGER items_copy_to_links;
CREATE TRIGGER items_copy_to_links AFTER UPDATE OF date, kind, deleted_at, thread_id ON items
BEGIN
    UPDATE item_links SET date = NEW.date, kind = NEW.kind, live = NEW.deleted_at IS NULL, thread_id = NEW.thread_id
    WHERE item_id = NEW.id;
END;
"#,
    // 10: cheaper link inserts (issue 14). Every writer now gives a link
    // its item's fields itself, so the trigger that filled links inserted
    // without them goes: a trigger on a table makes every insert into it
    // keep a statement journal. `item_links_contact` goes too: the index
    // (contact, live, date) of migration 7 starts with the same column.
    r#"
DROP TRIGGER item_links_copy_item;
DROP INDEX item_links_contact;
"#,
    // 11: a person's right to be forgotten (issue 15). The suppress list
    // holds keyed hashes of erased addresses (the key is in `meta`); the
    // matcher refuses items with them, and a new entry moves the
    // directory's version so running daemons learn it at once. Every
    // erasure is recorded, with the hash, never the address.
    r#"
CREATE TABLE suppressed (
    address_hash TEXT PRIMARY KEY,
    created_at   TEXT NOT NULL
);
CREATE TRIGGER suppressed_insert_bumps_directory AFTER INSERT ON suppressed
BEGIN UPDATE directory_version SET version = version + 1 WHERE id = 1; END;
CREATE TABLE erasures (
    id              INTEGER PRIMARY KEY,
    at              TEXT NOT NULL,
    by              TEXT NOT NULL,
    address_hash    TEXT NOT NULL,
    items_erased    INTEGER NOT NULL,
    items_redacted  INTEGER NOT NULL,
    contacts_erased INTEGER NOT NULL,
    files_erased    INTEGER NOT NULL
);
"#,
    // 12: one meeting, one event (issue 18). An occurrence's identity (UID
    // and RECURRENCE-ID, '-' for a single event) names one item, whichever
    // source brings it; SEQUENCE and DTSTAMP say which copy is newer. The
    // answers of invitation replies are kept apart and laid over every copy.
    // Events stored before are given their identities, the live copy first.
    r#"
CREATE TABLE events (
    uid       TEXT NOT NULL,
    rid       TEXT NOT NULL,
    item_id   INTEGER NOT NULL UNIQUE REFERENCES items(id) ON DELETE CASCADE,
    sequence  INTEGER NOT NULL DEFAULT 0,
    dtstamp   TEXT NOT NULL DEFAULT '',
    cancelled INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (uid, rid)
);
INSERT OR IGNORE INTO events (uid, rid, item_id, sequence)
    SELECT json_extract(extra, '$.uid'), COALESCE(json_extract(extra, '$.recurrence_id'), '-'), id,
           COALESCE(json_extract(extra, '$.sequence'), 0)
    FROM items WHERE kind = 'event' AND json_extract(extra, '$.uid') IS NOT NULL
    ORDER BY deleted_at IS NOT NULL, id;
CREATE TABLE event_replies (
    uid      TEXT NOT NULL,
    rid      TEXT NOT NULL,
    address  TEXT NOT NULL,
    partstat TEXT NOT NULL,
    sequence INTEGER NOT NULL DEFAULT 0,
    dtstamp  TEXT NOT NULL DEFAULT '',
    item_id  INTEGER REFERENCES items(id) ON DELETE SET NULL,
    PRIMARY KEY (uid, rid, address)
);
"#,
    // 13: who runs what (issue 19). Each configured source (and the
    // reminders) is run by one daemon at a time, the holder of its lease;
    // a lease not renewed by `expires_at` (seconds since 1970 on the
    // database's clock) may be taken by another daemon.
    r#"
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    node       TEXT NOT NULL,
    holder     TEXT NOT NULL,
    taken_at   TEXT NOT NULL,
    renewed_at TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
"#,
    // 14: the files every node reads (issue 19). On PostgreSQL the kept
    // originals and documents are stored here by content hash, besides the
    // data folder of the node that took them in, so that any node serves
    // them. SQLite keeps them in its data folder alone: this stays empty.
    r#"
CREATE TABLE files (
    hash       TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    bytes      BLOB NOT NULL,
    size       INTEGER NOT NULL,
    created_at TEXT NOT NULL
);
"#,
    // 15: on PostgreSQL, the tables read in the order they were written
    // (item_sources for the visibility mark, item_participants and
    // item_attachments for their order) get a `rowid` column of their own,
    // which SQLite's tables have already: nothing to do here.
    "SELECT 1;",
    // 16: on PostgreSQL, the kept files are compressed with lz4, not pglz
    // (much quicker, a little larger). SQLite keeps no files: nothing to do.
    "SELECT 1;",
    // 17: whether the store has held a mail captured without its
    // Message-ID (only such a mail has a twin to look for when its mailbox
    // copy arrives): kept in `meta`, set here for stores made before.
    r#"
INSERT INTO meta (key, value) VALUES ('captured_without_id',
    CASE WHEN EXISTS (SELECT 1 FROM items WHERE kind = 'email' AND extra LIKE '%"derived_id":true%') THEN '1' ELSE '0' END)
ON CONFLICT(key) DO NOTHING;
"#,
    // 18: on PostgreSQL, the index of participants' reversed domains in
    // byte order ("C"), so that re-matching a domain and its subdomains
    // (a range in byte order) reads the index instead of every row.
    // SQLite's index is in byte order already: nothing to do.
    "SELECT 1;",
    // 19: on PostgreSQL, the items' text (bodies, extra) is compressed
    // with lz4 like the kept files (16). SQLite does not compress.
    "SELECT 1;",
    // 20: each thread's last live mail, kept by triggers (issue 14). The
    // brief's waiting threads probed `items_thread_last` three times per
    // thread of the client and read every waiting mail's row for its
    // invitation: 120 ms for a client of 23,659 threads at a million
    // items. Now a thread is one step into this table, and `waiting` says
    // whether its last mail came in and carries no invitation. A write
    // that moves a thread's last mail (a new mail, a deletion, a merge of
    // threads, an erasure) keeps the row; an insert only moves it forward.
    r#"
CREATE TABLE thread_last (
    thread_id INTEGER PRIMARY KEY,
    item_id   INTEGER NOT NULL,
    date      TEXT NOT NULL,
    waiting   INTEGER NOT NULL
);
INSERT INTO thread_last (thread_id, item_id, date, waiting)
SELECT i.thread_id, i.id, i.date,
       i.direction = 'in' AND (instr(i.extra, '"invitation"') = 0 OR json_extract(i.extra, '$.invitation') IS NULL)
FROM (SELECT DISTINCT thread_id FROM items WHERE thread_id IS NOT NULL AND kind = 'email' AND deleted_at IS NULL) t
JOIN items i ON i.id = (SELECT x.id FROM items x
                        WHERE x.thread_id = t.thread_id AND x.kind = 'email' AND x.deleted_at IS NULL
                        ORDER BY x.date DESC, x.id DESC LIMIT 1);
CREATE TRIGGER items_thread_last_insert AFTER INSERT ON items
WHEN NEW.kind = 'email' AND NEW.deleted_at IS NULL AND NEW.thread_id IS NOT NULL
BEGIN
    INSERT INTO thread_last (thread_id, item_id, date, waiting)
    VALUES (NEW.thread_id, NEW.id, NEW.date,
            NEW.direction = 'in' AND (instr(NEW.extra, '"invitation"') = 0 OR json_extract(NEW.extra, '$.invitation') IS NULL))
    ON CONFLICT (thread_id) DO UPDATE SET item_id = excluded.item_id, date = excluded.date, waiting = excluded.waiting
    WHERE excluded.date > thread_last.date OR (excluded.date = thread_last.date AND excluded.item_id > thread_last.item_id);
END;
CREATE TRIGGER items_thread_last_update AFTER UPDATE OF thread_id, date, deleted_at, kind, direction, extra ON items
WHEN (OLD.thread_id IS NOT NULL OR NEW.thread_id IS NOT NULL)
 AND (OLD.thread_id IS NOT NEW.thread_id OR OLD.date IS NOT NEW.date OR OLD.deleted_at IS NOT NEW.deleted_at
      OR OLD.kind IS NOT NEW.kind OR OLD.direction IS NOT NEW.direction OR OLD.extra IS NOT NEW.extra)
BEGIN
    DELETE FROM thread_last WHERE thread_id IN (OLD.thread_id, NEW.thread_id);
    INSERT INTO thread_last (thread_id, item_id, date, waiting)
    SELECT i.thread_id, i.id, i.date,
           i.direction = 'in' AND (instr(i.extra, '"invitation"') = 0 OR json_extract(i.extra, '$.invitation') IS NULL)
    FROM (SELECT OLD.thread_id AS id UNION SELECT NEW.thread_id) t
    JOIN items i ON i.id = (SELECT x.id FROM items x
                            WHERE x.thread_id = t.id AND x.kind = 'email' AND x.deleted_at IS NULL
                            ORDER BY x.date DESC, x.id DESC LIMIT 1)
    WHERE t.id IS NOT NULL;
END;
CREATE TRIGGER items_thread_last_delete AFTER DELETE ON items WHEN OLD.thread_id IS NOT NULL
BEGIN
    DELETE FROM thread_last WHERE thread_id = OLD.thread_id;
    INSERT INTO thread_last (thread_id, item_id, date, waiting)
    SELECT i.thread_id, i.id, i.date,
           i.direction = 'in' AND (instr(i.extra, '"invitation"') = 0 OR json_extract(i.extra, '$.invitation') IS NULL)
    FROM items i
    WHERE i.id = (SELECT x.id FROM items x
                  WHERE x.thread_id = OLD.thread_id AND x.kind = 'email' AND x.deleted_at IS NULL
                  ORDER BY x.date DESC, x.id DESC LIMIT 1);
END;
"#,
    // 21: the waiting threads of everyone, newest first, without reading
    // them all (the Today page: its newest 50 and a count up to 1,000
    // took 6.5 s at a million items when every waiting thread was read).
    "CREATE INDEX thread_last_waiting ON thread_last(date, item_id) WHERE waiting = 1;",
    // 22: that index goes again. Kept in date order while mail is imported
    // in folder order, it cost a million-message import 20 s of 403 (a
    // random page for every thread whose last mail moved); Today walks the
    // items by date instead (`items_date`), a step into `thread_last` each.
    "DROP INDEX thread_last_waiting;",
];
