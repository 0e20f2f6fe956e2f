SELECT
  `t6`.`customer_id`
FROM (
  SELECT
    *
  FROM (
    SELECT
      `t0`.`pid`,
      `t0`.`customer_id`
    FROM `profiles` AS `t0`
    WHERE
      `t0`.`customer_id` IS NOT NULL
      AND (
        (
          `t0`.`created_at` <= TIMESTAMP('2026-11-01T00:00:00+00:00')
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
              `t0`.`first_event_at` <= TIMESTAMP('2026-11-01T00:00:00+00:00')
            )
          )
        )
      )
  ) AS `t2`
  WHERE
    `t2`.`pid` IN (
      SELECT
        `t4`.`pid`
      FROM (
        SELECT
          `t3`.`pid`,
          COUNT(
            DISTINCT IF(
              (
                `t3`.`ts` >= TIMESTAMP('2026-01-01T00:00:00+00:00')
              )
              AND (
                `t3`.`ts` < TIMESTAMP('2026-07-01T00:00:00+00:00')
              )
              AND COALESCE(safe.float64(`t3`.`properties`['price']) >= 10, FALSE),
              safe.string(`t3`.`properties`['category']),
              NULL
            )
          ) AS `m0`,
          COUNTIF(
            (
              `t3`.`ts` >= TIMESTAMP('2026-01-01T00:00:00+00:00')
            )
            AND (
              `t3`.`ts` < TIMESTAMP('2026-07-01T00:00:00+00:00')
            )
            AND COALESCE(safe.float64(`t3`.`properties`['price']) >= 10, FALSE)
          ) AS `m0_n`
        FROM (
          SELECT
            *
          FROM `events` AS `t1`
          WHERE
            `t1`.`event` = 'product_view'
            AND `t1`.`ts` >= TIMESTAMP('2026-01-01T00:00:00+00:00')
            AND `t1`.`ts` <= TIMESTAMP('2026-07-01T00:00:00+00:00')
            AND `t1`.`ts` < TIMESTAMP('2026-07-01T00:00:00+00:00')
            AND COALESCE(safe.float64(`t1`.`properties`['price']) >= 10, FALSE)
        ) AS `t3`
        GROUP BY
          1
      ) AS `t4`
      WHERE
        `t4`.`m0_n` > 0 AND COALESCE(COALESCE(`t4`.`m0`, 0) BETWEEN 2 AND 5, FALSE)
    )
) AS `t6`
