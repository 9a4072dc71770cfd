SELECT le_ms, count(e.id) AS count
FROM unnest(%(bounds)s::bigint[]) WITH ORDINALITY AS b(le_ms, i)
LEFT JOIN LATERAL (
  SELECT id FROM public.workflow_executions AS x
  WHERE x.project_id = %(project_id)s AND x.duration_ms IS NOT NULL
    AND x.duration_ms <= b.le_ms
    AND x.duration_ms > coalesce((%(bounds)s::bigint[])[b.i - 1], -1)
) AS e ON true
GROUP BY le_ms, i
ORDER BY i
