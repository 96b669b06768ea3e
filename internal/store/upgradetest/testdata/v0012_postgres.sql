-- Herald schema version 0012 with the upgrade fixture's rows (internal/store/upgradetest).
-- Written by TestGenerateFixtures with pg_dump; __SCHEMA__ is the schema name.
--
-- PostgreSQL database dump
--


-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: __SCHEMA__; Type: SCHEMA; Schema: -; Owner: -
--

CREATE SCHEMA __SCHEMA__;


SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: attempts; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.attempts (
    id text NOT NULL COLLATE pg_catalog."C",
    delivery_id text NOT NULL COLLATE pg_catalog."C",
    number integer NOT NULL,
    started_at timestamp with time zone NOT NULL,
    latency_ns bigint NOT NULL,
    request_headers text NOT NULL,
    status_code integer NOT NULL,
    response_headers text NOT NULL,
    response_body text NOT NULL,
    error text NOT NULL,
    request_method text DEFAULT ''::text NOT NULL,
    request_url text DEFAULT ''::text NOT NULL,
    request_body text DEFAULT ''::text NOT NULL,
    request_body_truncated boolean DEFAULT false NOT NULL
);


--
-- Name: audit; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.audit (
    id text NOT NULL COLLATE pg_catalog."C",
    at timestamp with time zone NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    object text NOT NULL,
    project text NOT NULL COLLATE pg_catalog."C",
    details text NOT NULL
);


--
-- Name: deliveries; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.deliveries (
    id text NOT NULL COLLATE pg_catalog."C",
    event_seq bigint NOT NULL,
    webhook_id text NOT NULL COLLATE pg_catalog."C",
    project text NOT NULL COLLATE pg_catalog."C",
    event_type text NOT NULL COLLATE pg_catalog."C",
    state text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    round_start integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp with time zone NOT NULL,
    lease_token text,
    lease_until timestamp with time zone,
    last_attempt_at timestamp with time zone,
    last_status integer DEFAULT 0 NOT NULL,
    last_error text DEFAULT ''::text NOT NULL,
    test boolean DEFAULT false NOT NULL,
    ordered boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    due_at timestamp with time zone GENERATED ALWAYS AS (GREATEST(next_attempt_at, lease_until)) STORED
);


--
-- Name: events; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.events (
    seq bigint NOT NULL,
    id text NOT NULL COLLATE pg_catalog."C",
    project text NOT NULL COLLATE pg_catalog."C",
    type text NOT NULL COLLATE pg_catalog."C",
    received_at timestamp with time zone NOT NULL,
    body text NOT NULL
);


--
-- Name: events_seq_seq; Type: SEQUENCE; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE __SCHEMA__.events ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME __SCHEMA__.events_seq_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: nodes; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.nodes (
    id text NOT NULL COLLATE pg_catalog."C",
    instance text NOT NULL,
    started_at timestamp with time zone NOT NULL,
    heartbeat_at timestamp with time zone NOT NULL
);


--
-- Name: schema_migrations; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.schema_migrations (
    version integer NOT NULL,
    name text NOT NULL,
    applied_at timestamp with time zone DEFAULT now() NOT NULL
);


--
-- Name: sessions; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.sessions (
    id text NOT NULL COLLATE pg_catalog."C",
    hash text NOT NULL,
    subject text NOT NULL,
    name text NOT NULL,
    role text NOT NULL,
    projects text NOT NULL,
    csrf text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL
);


--
-- Name: settings; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.settings (
    id integer NOT NULL,
    webhooks_enabled boolean NOT NULL,
    https_only boolean NOT NULL,
    CONSTRAINT settings_id_check CHECK ((id = 1))
);


--
-- Name: tokens; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.tokens (
    id text NOT NULL COLLATE pg_catalog."C",
    name text NOT NULL,
    role text NOT NULL,
    projects text NOT NULL,
    hash text NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: users; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.users (
    id text NOT NULL COLLATE pg_catalog."C",
    username text NOT NULL COLLATE pg_catalog."C",
    password_hash text NOT NULL,
    role text NOT NULL,
    projects text NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: webhooks; Type: TABLE; Schema: __SCHEMA__; Owner: -
--

CREATE TABLE __SCHEMA__.webhooks (
    id text NOT NULL COLLATE pg_catalog."C",
    name text NOT NULL,
    project text NOT NULL COLLATE pg_catalog."C",
    url text NOT NULL,
    enabled boolean NOT NULL,
    category text NOT NULL,
    event_types text NOT NULL,
    conditions text NOT NULL,
    severity text NOT NULL,
    language text NOT NULL,
    format text NOT NULL,
    template text NOT NULL,
    content_type text NOT NULL,
    headers text NOT NULL,
    auth text NOT NULL,
    tls text NOT NULL,
    max_attempts integer NOT NULL,
    timeout_ns bigint NOT NULL,
    rate_limit integer NOT NULL,
    ordered boolean NOT NULL,
    secrets text NOT NULL,
    disabled_reason text NOT NULL,
    failing_since timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    retry_client_errors boolean DEFAULT true NOT NULL,
    standard_headers boolean DEFAULT true NOT NULL
);


--
-- Data for Name: attempts; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--

INSERT INTO __SCHEMA__.attempts (id, delivery_id, number, started_at, latency_ns, request_headers, status_code, response_headers, response_body, error, request_method, request_url, request_body, request_body_truncated) VALUES ('att_01m8xxrmyeh29fkbyk83rdcnd4', 'dlv_01m8xxrmy6abmsxy8nkz8s270h', 1, '2025-06-02 10:00:01+00', 120000000, '{"Authorization":["[redacted]"],"Content-Type":["application/json"],"User-Agent":["Herald/fixture"],"Webhook-Id":["dlv_01m8xxrmy6abmsxy8nkz8s270h"]}', 200, '{"Server":["fixture"]}', 'status 200', '', 'POST', 'http://127.0.0.1:9/alpha?sig=%5Bredacted%5D', '{"id":"a1","type":"image.push","data":{"note":"告警 ✓"}}', false);
INSERT INTO __SCHEMA__.attempts (id, delivery_id, number, started_at, latency_ns, request_headers, status_code, response_headers, response_body, error, request_method, request_url, request_body, request_body_truncated) VALUES ('att_01m8xxrmyjjaym5vvqkzh6zvdq', 'dlv_01m8xxrmy6abmsxy8nkz8s270j', 1, '2025-06-02 10:00:01+00', 120000000, '{"Authorization":["[redacted]"],"Content-Type":["application/json"],"User-Agent":["Herald/fixture"],"Webhook-Id":["dlv_01m8xxrmy6abmsxy8nkz8s270j"]}', 500, '{"Server":["fixture"]}', 'status 500', 'HTTP 500', 'POST', 'http://127.0.0.1:9/alpha?sig=%5Bredacted%5D', '{"id":"a2","type":"image.push","data":{"note":"告警 ✓"}}', false);
INSERT INTO __SCHEMA__.attempts (id, delivery_id, number, started_at, latency_ns, request_headers, status_code, response_headers, response_body, error, request_method, request_url, request_body, request_body_truncated) VALUES ('att_01m8xxrmymvypd5nqpqpx288zv', 'dlv_01m8xxrmy6abmsxy8nkz8s270k', 1, '2025-06-02 10:00:01+00', 120000000, '{"Authorization":["[redacted]"],"Content-Type":["application/json"],"User-Agent":["Herald/fixture"],"Webhook-Id":["dlv_01m8xxrmy6abmsxy8nkz8s270k"]}', 503, '{"Server":["fixture"]}', 'status 503', 'HTTP 503', 'POST', 'http://127.0.0.1:9/alpha?sig=%5Bredacted%5D', '{"id":"a3","type":"image.push","data":{"note":"告警 ✓"}}', false);
INSERT INTO __SCHEMA__.attempts (id, delivery_id, number, started_at, latency_ns, request_headers, status_code, response_headers, response_body, error, request_method, request_url, request_body, request_body_truncated) VALUES ('att_01m8xxrmyqevqa8n8cbhw84qqk', 'dlv_01m8xxrmy6yzjsm0vsjth4ydth', 1, '2025-06-02 10:00:01+00', 120000000, '{"Authorization":["[redacted]"],"Content-Type":["application/json"],"User-Agent":["Herald/fixture"],"Webhook-Id":["dlv_01m8xxrmy6yzjsm0vsjth4ydth"]}', 502, '{"Server":["fixture"]}', 'status 502', 'HTTP 502', 'POST', 'http://127.0.0.1:9/alpha?sig=%5Bredacted%5D', '{"id":"a5","type":"image.push","data":{"note":"告警 ✓"}}', false);
INSERT INTO __SCHEMA__.attempts (id, delivery_id, number, started_at, latency_ns, request_headers, status_code, response_headers, response_body, error, request_method, request_url, request_body, request_body_truncated) VALUES ('att_01m8xxrmyrvcsjby0wns4dc42f', 'dlv_01m8xxrmy9x6has0ah9c063w6e', 1, '2025-06-02 10:00:01+00', 120000000, '{"Authorization":["[redacted]"],"Content-Type":["application/json"],"User-Agent":["Herald/fixture"],"Webhook-Id":["dlv_01m8xxrmy9x6has0ah9c063w6e"]}', 204, '{"Server":["fixture"]}', 'status 204', '', 'POST', 'http://127.0.0.1:9/beta', '{"id":"b1","type":"image.push","data":{"note":"告警 ✓"}}', false);
INSERT INTO __SCHEMA__.attempts (id, delivery_id, number, started_at, latency_ns, request_headers, status_code, response_headers, response_body, error, request_method, request_url, request_body, request_body_truncated) VALUES ('att_01m8xxrmz1ftytjmdzvmwcwtnj', 'dlv_01m8xxrmy6abmsxy8nkz8s270j', 2, '2025-06-02 10:02:00+00', 120000000, '{"Authorization":["[redacted]"],"Content-Type":["application/json"],"User-Agent":["Herald/fixture"],"Webhook-Id":["dlv_01m8xxrmy6abmsxy8nkz8s270j"]}', 500, '{"Server":["fixture"]}', 'status 500', 'HTTP 500', 'POST', 'http://127.0.0.1:9/alpha?sig=%5Bredacted%5D', '{"id":"a2","type":"image.push","data":{"note":"告警 ✓"}}', false);
INSERT INTO __SCHEMA__.attempts (id, delivery_id, number, started_at, latency_ns, request_headers, status_code, response_headers, response_body, error, request_method, request_url, request_body, request_body_truncated) VALUES ('att_01m8xxrmz3qts0pbvzq6hpswbw', 'dlv_01m8xxrmy6yzjsm0vsjth4ydth', 2, '2025-06-02 10:02:00+00', 120000000, '{"Authorization":["[redacted]"],"Content-Type":["application/json"],"User-Agent":["Herald/fixture"],"Webhook-Id":["dlv_01m8xxrmy6yzjsm0vsjth4ydth"]}', 502, '{"Server":["fixture"]}', 'status 502', 'HTTP 502', 'POST', 'http://127.0.0.1:9/alpha?sig=%5Bredacted%5D', '{"id":"a5","type":"image.push","data":{"note":"告警 ✓"}}', false);
INSERT INTO __SCHEMA__.attempts (id, delivery_id, number, started_at, latency_ns, request_headers, status_code, response_headers, response_body, error, request_method, request_url, request_body, request_body_truncated) VALUES ('att_01m8xxrmz5z4ejamm0scp9gw7p', 'dlv_01m8xxrmy9x6has0ah9c063w6f', 1, '2025-06-02 10:02:00+00', 120000000, '{"Authorization":["[redacted]"],"Content-Type":["application/json"],"User-Agent":["Herald/fixture"],"Webhook-Id":["dlv_01m8xxrmy9x6has0ah9c063w6f"]}', 500, '{"Server":["fixture"]}', 'status 500', 'HTTP 500', 'POST', 'http://127.0.0.1:9/beta', '{"id":"b2","type":"image.push","data":{"note":"告警 ✓"}}', false);


--
-- Data for Name: audit; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--



--
-- Data for Name: deliveries; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--

INSERT INTO __SCHEMA__.deliveries (id, event_seq, webhook_id, project, event_type, state, attempts, round_start, next_attempt_at, lease_token, lease_until, last_attempt_at, last_status, last_error, test, ordered, created_at, updated_at) VALUES ('dlv_01m8xxrmy6abmsxy8nkz8s270h', 1, 'wh_fixture_signed', 'alpha', 'image.push', 'succeeded', 1, 0, '2025-06-02 10:00:00+00', NULL, NULL, '2025-06-02 10:00:01+00', 200, '', false, false, '2025-06-02 10:00:00+00', '2025-06-02 10:00:02+00');
INSERT INTO __SCHEMA__.deliveries (id, event_seq, webhook_id, project, event_type, state, attempts, round_start, next_attempt_at, lease_token, lease_until, last_attempt_at, last_status, last_error, test, ordered, created_at, updated_at) VALUES ('dlv_01m8xxrmy9x6has0ah9c063w6e', 6, 'wh_fixture_ordered', 'beta', 'image.push', 'succeeded', 1, 0, '2025-06-02 10:00:00+00', NULL, NULL, '2025-06-02 10:00:01+00', 204, '', false, true, '2025-06-02 10:00:00+00', '2025-06-02 10:00:02+00');
INSERT INTO __SCHEMA__.deliveries (id, event_seq, webhook_id, project, event_type, state, attempts, round_start, next_attempt_at, lease_token, lease_until, last_attempt_at, last_status, last_error, test, ordered, created_at, updated_at) VALUES ('dlv_01m8xxrmy6abmsxy8nkz8s270k', 3, 'wh_fixture_signed', 'alpha', 'image.push', 'retrying', 1, 0, '2025-06-02 10:01:00+00', 'fixture-node-1', '2025-06-02 10:12:00+00', '2025-06-02 10:00:01+00', 503, 'HTTP 503', false, false, '2025-06-02 10:00:00+00', '2025-06-02 10:00:02+00');
INSERT INTO __SCHEMA__.deliveries (id, event_seq, webhook_id, project, event_type, state, attempts, round_start, next_attempt_at, lease_token, lease_until, last_attempt_at, last_status, last_error, test, ordered, created_at, updated_at) VALUES ('dlv_01m8xxrmy6deksds44q36q8pty', 4, 'wh_fixture_signed', 'alpha', 'image.push', 'pending', 0, 0, '2025-06-02 10:00:00+00', 'fixture-node-1', '2025-06-02 10:12:00+00', NULL, 0, '', false, false, '2025-06-02 10:00:00+00', '2025-06-02 10:00:00+00');
INSERT INTO __SCHEMA__.deliveries (id, event_seq, webhook_id, project, event_type, state, attempts, round_start, next_attempt_at, lease_token, lease_until, last_attempt_at, last_status, last_error, test, ordered, created_at, updated_at) VALUES ('dlv_01m8xxrmy6abmsxy8nkz8s270j', 2, 'wh_fixture_signed', 'alpha', 'image.push', 'failed', 2, 0, '2025-06-02 10:01:00+00', NULL, NULL, '2025-06-02 10:02:00+00', 500, 'HTTP 500', false, false, '2025-06-02 10:00:00+00', '2025-06-02 10:02:01+00');
INSERT INTO __SCHEMA__.deliveries (id, event_seq, webhook_id, project, event_type, state, attempts, round_start, next_attempt_at, lease_token, lease_until, last_attempt_at, last_status, last_error, test, ordered, created_at, updated_at) VALUES ('dlv_01m8xxrmy9x6has0ah9c063w6f', 7, 'wh_fixture_ordered', 'beta', 'image.push', 'retrying', 1, 0, '2025-06-02 10:03:00+00', 'fixture-node-1', '2025-06-02 10:13:00+00', '2025-06-02 10:02:00+00', 500, 'HTTP 500', false, true, '2025-06-02 10:00:00+00', '2025-06-02 10:02:01+00');
INSERT INTO __SCHEMA__.deliveries (id, event_seq, webhook_id, project, event_type, state, attempts, round_start, next_attempt_at, lease_token, lease_until, last_attempt_at, last_status, last_error, test, ordered, created_at, updated_at) VALUES ('dlv_01m8xxrmy9x6has0ah9c063w6g', 8, 'wh_fixture_ordered', 'beta', 'image.push', 'held', 0, 0, '2025-06-02 10:00:00+00', NULL, NULL, NULL, 0, '', false, true, '2025-06-02 10:00:00+00', '2025-06-02 10:05:00+00');
INSERT INTO __SCHEMA__.deliveries (id, event_seq, webhook_id, project, event_type, state, attempts, round_start, next_attempt_at, lease_token, lease_until, last_attempt_at, last_status, last_error, test, ordered, created_at, updated_at) VALUES ('dlv_01m8xxrmy9x6has0ah9c063w6h', 9, 'wh_fixture_ordered', 'beta', 'image.push', 'held', 0, 0, '2025-06-02 10:00:00+00', NULL, NULL, NULL, 0, '', false, true, '2025-06-02 10:00:00+00', '2025-06-02 10:05:00+00');
INSERT INTO __SCHEMA__.deliveries (id, event_seq, webhook_id, project, event_type, state, attempts, round_start, next_attempt_at, lease_token, lease_until, last_attempt_at, last_status, last_error, test, ordered, created_at, updated_at) VALUES ('dlv_01m8xxrmy6yzjsm0vsjth4ydth', 5, 'wh_fixture_signed', 'alpha', 'image.push', 'held', 2, 0, '2025-06-02 10:03:00+00', NULL, NULL, '2025-06-02 10:02:00+00', 502, 'HTTP 502', false, false, '2025-06-02 10:00:00+00', '2025-06-02 10:05:00+00');
INSERT INTO __SCHEMA__.deliveries (id, event_seq, webhook_id, project, event_type, state, attempts, round_start, next_attempt_at, lease_token, lease_until, last_attempt_at, last_status, last_error, test, ordered, created_at, updated_at) VALUES ('dlv_01m8xxrmz83qh1z4g5h6pya7qz', 10, 'wh_fixture_signed', 'alpha', 'image.push', 'held', 0, 0, '2025-06-02 10:04:00+00', NULL, NULL, NULL, 0, '', false, false, '2025-06-02 10:04:00+00', '2025-06-02 10:05:00+00');
INSERT INTO __SCHEMA__.deliveries (id, event_seq, webhook_id, project, event_type, state, attempts, round_start, next_attempt_at, lease_token, lease_until, last_attempt_at, last_status, last_error, test, ordered, created_at, updated_at) VALUES ('dlv_01m8xxrmz9rc5my53d2fhx5hwg', 11, 'wh_fixture_ordered', 'beta', 'image.push', 'held', 0, 0, '2025-06-02 10:04:00+00', NULL, NULL, NULL, 0, '', false, true, '2025-06-02 10:04:00+00', '2025-06-02 10:05:00+00');
INSERT INTO __SCHEMA__.deliveries (id, event_seq, webhook_id, project, event_type, state, attempts, round_start, next_attempt_at, lease_token, lease_until, last_attempt_at, last_status, last_error, test, ordered, created_at, updated_at) VALUES ('dlv_01m8xxrmzce41nb5gqp9xrv5ym', 12, 'wh_fixture_signed', 'alpha', 'image.push', 'held', 0, 0, '2025-06-02 10:06:00+00', NULL, NULL, NULL, 0, '', false, false, '2025-06-02 10:06:00+00', '2025-06-02 10:06:00+00');


--
-- Data for Name: events; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--

INSERT INTO __SCHEMA__.events (seq, id, project, type, received_at, body) OVERRIDING SYSTEM VALUE VALUES (1, 'a1', 'alpha', 'image.push', '2025-06-02 10:00:00+00', '{"id":"a1","type":"image.push","project":"alpha","source":"registry","subject":"library/nginx:a1","severity":"warning","labels":{"env":"prod"},"data":{"repo":"library/nginx","tag":"a1","note":"告警 ✓"},"message":"image pushed","occurred_at":"2025-06-02T09:59:59Z","received_at":"2025-06-02T10:00:00Z"}');
INSERT INTO __SCHEMA__.events (seq, id, project, type, received_at, body) OVERRIDING SYSTEM VALUE VALUES (2, 'a2', 'alpha', 'image.push', '2025-06-02 10:00:00+00', '{"id":"a2","type":"image.push","project":"alpha","source":"registry","subject":"library/nginx:a2","severity":"warning","labels":{"env":"prod"},"data":{"repo":"library/nginx","tag":"a2","note":"告警 ✓"},"message":"image pushed","occurred_at":"2025-06-02T09:59:59Z","received_at":"2025-06-02T10:00:00Z"}');
INSERT INTO __SCHEMA__.events (seq, id, project, type, received_at, body) OVERRIDING SYSTEM VALUE VALUES (3, 'a3', 'alpha', 'image.push', '2025-06-02 10:00:00+00', '{"id":"a3","type":"image.push","project":"alpha","source":"registry","subject":"library/nginx:a3","severity":"warning","labels":{"env":"prod"},"data":{"repo":"library/nginx","tag":"a3","note":"告警 ✓"},"message":"image pushed","occurred_at":"2025-06-02T09:59:59Z","received_at":"2025-06-02T10:00:00Z"}');
INSERT INTO __SCHEMA__.events (seq, id, project, type, received_at, body) OVERRIDING SYSTEM VALUE VALUES (4, 'a4', 'alpha', 'image.push', '2025-06-02 10:00:00+00', '{"id":"a4","type":"image.push","project":"alpha","source":"registry","subject":"library/nginx:a4","severity":"warning","labels":{"env":"prod"},"data":{"repo":"library/nginx","tag":"a4","note":"告警 ✓"},"message":"image pushed","occurred_at":"2025-06-02T09:59:59Z","received_at":"2025-06-02T10:00:00Z"}');
INSERT INTO __SCHEMA__.events (seq, id, project, type, received_at, body) OVERRIDING SYSTEM VALUE VALUES (5, 'a5', 'alpha', 'image.push', '2025-06-02 10:00:00+00', '{"id":"a5","type":"image.push","project":"alpha","source":"registry","subject":"library/nginx:a5","severity":"warning","labels":{"env":"prod"},"data":{"repo":"library/nginx","tag":"a5","note":"告警 ✓"},"message":"image pushed","occurred_at":"2025-06-02T09:59:59Z","received_at":"2025-06-02T10:00:00Z"}');
INSERT INTO __SCHEMA__.events (seq, id, project, type, received_at, body) OVERRIDING SYSTEM VALUE VALUES (6, 'b1', 'beta', 'image.push', '2025-06-02 10:00:00+00', '{"id":"b1","type":"image.push","project":"beta","source":"registry","subject":"library/nginx:b1","severity":"warning","labels":{"env":"prod"},"data":{"repo":"library/nginx","tag":"b1","note":"告警 ✓"},"message":"image pushed","occurred_at":"2025-06-02T09:59:59Z","received_at":"2025-06-02T10:00:00Z"}');
INSERT INTO __SCHEMA__.events (seq, id, project, type, received_at, body) OVERRIDING SYSTEM VALUE VALUES (7, 'b2', 'beta', 'image.push', '2025-06-02 10:00:00+00', '{"id":"b2","type":"image.push","project":"beta","source":"registry","subject":"library/nginx:b2","severity":"warning","labels":{"env":"prod"},"data":{"repo":"library/nginx","tag":"b2","note":"告警 ✓"},"message":"image pushed","occurred_at":"2025-06-02T09:59:59Z","received_at":"2025-06-02T10:00:00Z"}');
INSERT INTO __SCHEMA__.events (seq, id, project, type, received_at, body) OVERRIDING SYSTEM VALUE VALUES (8, 'b3', 'beta', 'image.push', '2025-06-02 10:00:00+00', '{"id":"b3","type":"image.push","project":"beta","source":"registry","subject":"library/nginx:b3","severity":"warning","labels":{"env":"prod"},"data":{"repo":"library/nginx","tag":"b3","note":"告警 ✓"},"message":"image pushed","occurred_at":"2025-06-02T09:59:59Z","received_at":"2025-06-02T10:00:00Z"}');
INSERT INTO __SCHEMA__.events (seq, id, project, type, received_at, body) OVERRIDING SYSTEM VALUE VALUES (9, 'b4', 'beta', 'image.push', '2025-06-02 10:00:00+00', '{"id":"b4","type":"image.push","project":"beta","source":"registry","subject":"library/nginx:b4","severity":"warning","labels":{"env":"prod"},"data":{"repo":"library/nginx","tag":"b4","note":"告警 ✓"},"message":"image pushed","occurred_at":"2025-06-02T09:59:59Z","received_at":"2025-06-02T10:00:00Z"}');
INSERT INTO __SCHEMA__.events (seq, id, project, type, received_at, body) OVERRIDING SYSTEM VALUE VALUES (10, 'a6', 'alpha', 'image.push', '2025-06-02 10:04:00+00', '{"id":"a6","type":"image.push","project":"alpha","source":"registry","subject":"library/nginx:a6","severity":"warning","labels":{"env":"prod"},"data":{"repo":"library/nginx","tag":"a6","note":"告警 ✓"},"message":"image pushed","occurred_at":"2025-06-02T10:03:59Z","received_at":"2025-06-02T10:04:00Z"}');
INSERT INTO __SCHEMA__.events (seq, id, project, type, received_at, body) OVERRIDING SYSTEM VALUE VALUES (11, 'b5', 'beta', 'image.push', '2025-06-02 10:04:00+00', '{"id":"b5","type":"image.push","project":"beta","source":"registry","subject":"library/nginx:b5","severity":"warning","labels":{"env":"prod"},"data":{"repo":"library/nginx","tag":"b5","note":"告警 ✓"},"message":"image pushed","occurred_at":"2025-06-02T10:03:59Z","received_at":"2025-06-02T10:04:00Z"}');
INSERT INTO __SCHEMA__.events (seq, id, project, type, received_at, body) OVERRIDING SYSTEM VALUE VALUES (12, 'a7', 'alpha', 'image.push', '2025-06-02 10:06:00+00', '{"id":"a7","type":"image.push","project":"alpha","source":"registry","subject":"library/nginx:a7","severity":"warning","labels":{"env":"prod"},"data":{"repo":"library/nginx","tag":"a7","note":"告警 ✓"},"message":"image pushed","occurred_at":"2025-06-02T10:05:59Z","received_at":"2025-06-02T10:06:00Z"}');


--
-- Data for Name: nodes; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--



--
-- Data for Name: schema_migrations; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--

INSERT INTO __SCHEMA__.schema_migrations (version, name, applied_at) VALUES (1, '0001_init.sql', '2026-12-03 12:23:44.704112+00');
INSERT INTO __SCHEMA__.schema_migrations (version, name, applied_at) VALUES (2, '0002_retry_client_errors.sql', '2026-12-03 12:23:44.785222+00');
INSERT INTO __SCHEMA__.schema_migrations (version, name, applied_at) VALUES (10, '0010_nodes.sql', '2026-12-03 12:23:44.821664+00');
INSERT INTO __SCHEMA__.schema_migrations (version, name, applied_at) VALUES (11, '0011_standard_headers.sql', '2026-12-03 12:23:44.826357+00');
INSERT INTO __SCHEMA__.schema_migrations (version, name, applied_at) VALUES (12, '0012_attempt_request.sql', '2026-12-03 12:23:44.828845+00');


--
-- Data for Name: sessions; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--



--
-- Data for Name: settings; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--

INSERT INTO __SCHEMA__.settings (id, webhooks_enabled, https_only) VALUES (1, false, false);


--
-- Data for Name: tokens; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--



--
-- Data for Name: users; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--



--
-- Data for Name: webhooks; Type: TABLE DATA; Schema: __SCHEMA__; Owner: -
--

INSERT INTO __SCHEMA__.webhooks (id, name, project, url, enabled, category, event_types, conditions, severity, language, format, template, content_type, headers, auth, tls, max_attempts, timeout_ns, rate_limit, ordered, secrets, disabled_reason, failing_since, created_at, updated_at, retry_client_errors, standard_headers) VALUES ('wh_fixture_signed', 'signed', 'alpha', 'http://127.0.0.1:9/alpha?sig=%5Bx%5D', true, 'events', '["image.*"]', '[{"label":"env","operator":"In","values":["prod","stage"]}]', 'all', 'en', 'standard', '', '', '{"X-Team":"infra"}', '{"type":"basic","username":"herald"}', '{"skip_verify":false}', 8, 5000000000, 0, false, 'v1:TJY/PeCh+zXrisZUKYK4z6PNfxMqGgiJbMcxhQmsVPvCPCKiuUhwvHE2i/LWN3oeBRKuw18p9vrRAB3rKjLxdP40TgjASDhb7eNaDz1XOMHw5oCTBUnkLDv3KmXJVhEH2BjaMepP1b8QAyqEL/femdeWL4sMK2dAwWAFUYC5bCIM3BKh5t8bfDQfi/+NTFJH02oj4KGVFwNBX2EWDB+N8kjMjSbpugTVO6VvQQPuEQUxejJb7NGfmaF+J1IWb+U7iS8HB/vXg4XTBllCER0aW0s5imcGCAtlcqNRXiyw6Ok4O+EjLFfJcbVHqx6mVatTOTaRqfj6ROXTZ+yIAu5BTiOnWCIY6yJvgZm2EHM58jZxoXPYKt2D9igZ8/Zj+AiB9Hb8B4xIjxcwiA==', '', '2025-06-02 10:00:01+00', '2025-06-01 10:00:00+00', '2025-06-02 09:00:00+00', true, true);
INSERT INTO __SCHEMA__.webhooks (id, name, project, url, enabled, category, event_types, conditions, severity, language, format, template, content_type, headers, auth, tls, max_attempts, timeout_ns, rate_limit, ordered, secrets, disabled_reason, failing_since, created_at, updated_at, retry_client_errors, standard_headers) VALUES ('wh_fixture_ordered', 'ordered', 'beta', 'http://127.0.0.1:9/beta', true, 'events', '["*"]', 'null', 'all', 'zh-CN', 'standard', '', '', 'null', '{"type":"none"}', '{"skip_verify":false}', 8, 0, 0, true, 'v1:sF2xI85hGCaIh2jHowtEvq1Ix1Vk1sRJzJV9SCcOHneoHlvnfWb7qCqvpzpo20jEvfUqxqYKBRr8mxw+3/PUMzFYpHR2KxTgcpC89g7NDHg+ji7fy6CcM0x3dWQcuTdXk6qCc3ftFKuPhBbs9lOPrD8rVDlqbBsGz/ZtSuzAfzYJ8c9RxcDe0n4yiWw6xhhU5mH5cjE=', '', '2025-06-02 10:02:00+00', '2025-06-01 10:00:00+00', '2025-06-01 10:00:00+00', false, true);


--
-- Name: events_seq_seq; Type: SEQUENCE SET; Schema: __SCHEMA__; Owner: -
--

SELECT pg_catalog.setval('__SCHEMA__.events_seq_seq', 12, true);


--
-- Name: attempts attempts_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.attempts
    ADD CONSTRAINT attempts_pkey PRIMARY KEY (delivery_id, id);


--
-- Name: audit audit_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.audit
    ADD CONSTRAINT audit_pkey PRIMARY KEY (id);


--
-- Name: deliveries deliveries_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.deliveries
    ADD CONSTRAINT deliveries_pkey PRIMARY KEY (id);


--
-- Name: events events_id_project_key; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.events
    ADD CONSTRAINT events_id_project_key UNIQUE (id, project);


--
-- Name: events events_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.events
    ADD CONSTRAINT events_pkey PRIMARY KEY (seq);


--
-- Name: nodes nodes_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.nodes
    ADD CONSTRAINT nodes_pkey PRIMARY KEY (id);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (version);


--
-- Name: sessions sessions_hash_key; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.sessions
    ADD CONSTRAINT sessions_hash_key UNIQUE (hash);


--
-- Name: sessions sessions_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.sessions
    ADD CONSTRAINT sessions_pkey PRIMARY KEY (id);


--
-- Name: settings settings_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.settings
    ADD CONSTRAINT settings_pkey PRIMARY KEY (id);


--
-- Name: tokens tokens_hash_key; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.tokens
    ADD CONSTRAINT tokens_hash_key UNIQUE (hash);


--
-- Name: tokens tokens_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.tokens
    ADD CONSTRAINT tokens_pkey PRIMARY KEY (id);


--
-- Name: users users_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);


--
-- Name: users users_username_key; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.users
    ADD CONSTRAINT users_username_key UNIQUE (username);


--
-- Name: webhooks webhooks_pkey; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.webhooks
    ADD CONSTRAINT webhooks_pkey PRIMARY KEY (id);


--
-- Name: webhooks webhooks_project_name_key; Type: CONSTRAINT; Schema: __SCHEMA__; Owner: -
--

ALTER TABLE ONLY __SCHEMA__.webhooks
    ADD CONSTRAINT webhooks_project_name_key UNIQUE (project, name);


--
-- Name: audit_project; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX audit_project ON __SCHEMA__.audit USING btree (project, id);


--
-- Name: deliveries_due; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX deliveries_due ON __SCHEMA__.deliveries USING btree (due_at, id) INCLUDE (webhook_id) WHERE (state = ANY (ARRAY['pending'::text, 'retrying'::text]));


--
-- Name: deliveries_event; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX deliveries_event ON __SCHEMA__.deliveries USING btree (event_seq);


--
-- Name: deliveries_finished; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX deliveries_finished ON __SCHEMA__.deliveries USING btree (updated_at) WHERE (state = ANY (ARRAY['succeeded'::text, 'failed'::text, 'cancelled'::text]));


--
-- Name: deliveries_open; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX deliveries_open ON __SCHEMA__.deliveries USING btree (webhook_id, id) WHERE (state = ANY (ARRAY['pending'::text, 'retrying'::text, 'held'::text]));


--
-- Name: deliveries_state; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX deliveries_state ON __SCHEMA__.deliveries USING btree (state, id);


--
-- Name: deliveries_status; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX deliveries_status ON __SCHEMA__.deliveries USING btree (webhook_id, event_type, last_attempt_at, id) WHERE (last_attempt_at IS NOT NULL);


--
-- Name: deliveries_webhook; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX deliveries_webhook ON __SCHEMA__.deliveries USING btree (webhook_id, id);


--
-- Name: events_received; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX events_received ON __SCHEMA__.events USING btree (received_at);


--
-- Name: sessions_expires; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX sessions_expires ON __SCHEMA__.sessions USING btree (expires_at);


--
-- Name: sessions_subject; Type: INDEX; Schema: __SCHEMA__; Owner: -
--

CREATE INDEX sessions_subject ON __SCHEMA__.sessions USING btree (subject);


--
-- PostgreSQL database dump complete
--


