-- When the operator last signed out of the console (Unix milliseconds): every console cookie
-- issued before it is refused, on every node, so a copied cookie dies with the sign-out
-- instead of living out its 8 hours. One row at most.
CREATE TABLE console_signouts
(
  id               integer PRIMARY KEY CHECK (id = 1),
  signed_out_at_ms integer NOT NULL
) STRICT;
