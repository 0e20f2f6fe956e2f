SELECT
  `t0`.`customer_id`
FROM `profiles` AS `t0`
WHERE
  `t0`.`customer_id` IS NOT NULL
  AND (
    (
      `t0`.`created_at` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
    )
    OR (
      (
        `t0`.`created_at` IS NULL
      )
      AND (
        (
          `t0`.`first_event_at` IS NULL
        )
        OR (
          `t0`.`first_event_at` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
        )
      )
    )
  )
  AND COALESCE(`t0`.`created_at` > CAST('2025-01-01T00:00:00+00:00' AS TIMESTAMP), FALSE)
  AND COALESCE(`t0`.`birth_date` < MAKE_DATE(1990, 6, 30), FALSE)
  AND COALESCE(
    (
      `t0`.`x_attr_5` > CAST('2026-10-25T00:00:00+00:00' AS TIMESTAMP)
    )
    AND (
      `t0`.`x_attr_5` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
    ),
    FALSE
  )
