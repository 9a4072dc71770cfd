SELECT date_trunc('hour', finished_at) AS bucket,
       count(*) FILTER (WHERE status = 'completed') AS completed,
       count(*) FILTER (WHERE status <> 'completed') AS failed
FROM public.workflow_executions
WHERE project_id = %(project_id)s
  AND finished_at >= NOW() - make_interval(hours => %(hours)s)
GROUP BY 1
ORDER BY 1
