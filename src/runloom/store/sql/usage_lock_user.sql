-- Serialise one user's quota-checked inserts of one kind until the transaction ends, so
-- that two concurrent requests cannot both see room for one more.
SELECT pg_advisory_xact_lock(hashtextextended(%(key)s, 0))
