-- vnsec PostgreSQL sink, migration 1: one row per article (the record as JSONB plus indexed
-- columns) and the views for the usual questions. Applied once, in a transaction, by
-- pipeline.sinks_postgres; never edit an applied migration: add the next numbered file instead.

CREATE TABLE articles (
    id               text PRIMARY KEY,
    title            text,
    published        text,                       -- source.published exactly as the input gave it
    published_on     date,                       -- the same, read as a date (NULL if unrecognised)
    url              text,
    feed             text,
    source_name      text,
    language         text NOT NULL,
    is_security      boolean NOT NULL,
    security_score   double precision NOT NULL,
    categories       text[] NOT NULL DEFAULT '{}',  -- threat category ids, best first
    organizations    text[] NOT NULL DEFAULT '{}',  -- organisation names
    people           text[] NOT NULL DEFAULT '{}',  -- person names
    schema_version   text NOT NULL,
    pipeline_version text NOT NULL,
    record           jsonb NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX articles_categories_gin ON articles USING gin (categories);
CREATE INDEX articles_organizations_gin ON articles USING gin (organizations);
CREATE INDEX articles_people_gin ON articles USING gin (people);
CREATE INDEX articles_record_gin ON articles USING gin (record jsonb_path_ops);
CREATE INDEX articles_published_on ON articles (published_on);
CREATE INDEX articles_security ON articles (is_security, published_on);
CREATE INDEX articles_language ON articles (language);

CREATE VIEW articles_by_category AS
    SELECT c.category, a.id, a.title, a.published, a.published_on,
           (a.record #>> ARRAY['threat', 'scores', c.category])::double precision AS score
    FROM articles a CROSS JOIN LATERAL unnest(a.categories) AS c(category);

CREATE VIEW articles_by_organization AS
    SELECT o.organization, a.id, a.title, a.published, a.published_on
    FROM articles a CROSS JOIN LATERAL unnest(a.organizations) AS o(organization);

CREATE VIEW articles_by_person AS
    SELECT p.value ->> 'name' AS person, p.value ->> 'role' AS role,
           p.value ->> 'affiliation' AS affiliation, a.id, a.title, a.published, a.published_on
    FROM articles a CROSS JOIN LATERAL jsonb_array_elements(a.record -> 'people') AS p(value);

CREATE VIEW articles_by_date AS
    SELECT published_on AS day, id, title, is_security, categories FROM articles;
