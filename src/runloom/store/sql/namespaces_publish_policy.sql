-- The installation's namespace policy, read by the trigger that names a new project's
-- namespace (20251226000014_namespace_per_user.sql).
UPDATE public.runloom_installation
SET namespace_mode = %(mode)s,
    namespace_prefix = %(prefix)s,
    namespace_map = %(mapping)s,
    namespace_create = %(create)s
