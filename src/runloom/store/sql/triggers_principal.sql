-- Service session: the trigger and the user it acts as, for a webhook call or a
-- schedule's action (neither comes with a user's token).
SELECT t.id, t.workflow_id, t.project_id, t.type, t.enabled, t.input, t.token_hash,
       t.token_ciphertext, t.created_by AS user_id, u.email::TEXT AS email
FROM public.workflow_triggers AS t
JOIN public.users AS u ON u.id = t.created_by
WHERE t.id = %(id)s
