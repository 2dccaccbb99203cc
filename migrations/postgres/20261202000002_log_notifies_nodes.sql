-- Every node copies the shared log into its own file (`src/store/postgres/mirror.rs`). Each
-- transaction that moves the log's head tells them, at its commit, so a node's views follow
-- another node's writes within milliseconds instead of at its next poll.
CREATE FUNCTION event_log_head_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('billstream_log', NEW.last_position::text);
  RETURN NULL;
END;
$$;

CREATE TRIGGER event_log_head_moved
AFTER UPDATE ON event_log_head
FOR EACH ROW EXECUTE FUNCTION event_log_head_notify();
