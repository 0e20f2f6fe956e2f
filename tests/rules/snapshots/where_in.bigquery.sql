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
  ) AS `t3`
  WHERE
    `t3`.`pid` IN (
      SELECT
        `t4`.`pid`
      FROM (
        SELECT
          `t2`.`pid`,
          COUNTIF(
            (
              `t2`.`ts` > TIMESTAMP('2026-08-03T00:00:00+00:00')
            )
            AND (
              `t2`.`ts` <= TIMESTAMP('2026-11-01T00:00:00+00:00')
            )
            AND (
              (
                safe.string(`t2`.`properties`['category']) IS NOT NULL
              )
              AND safe.string(`t2`.`properties`['category']) IN ('shoes', 'hats')
            )
          ) AS `m0`
        FROM (
          SELECT
            *
          FROM `events` AS `t1`
          WHERE
            `t1`.`event` = 'order_completed'
            AND `t1`.`ts` >= TIMESTAMP('2026-08-03T00:00:00+00:00')
            AND `t1`.`ts` <= TIMESTAMP('2026-11-01T00:00:00+00:00')
            AND `t1`.`ts` > TIMESTAMP('2026-08-03T00:00:00+00:00')
            AND safe.string(`t1`.`properties`['category']) IS NOT NULL
            AND safe.string(`t1`.`properties`['category']) IN ('shoes', 'hats')
        ) AS `t2`
        GROUP BY
          1
      ) AS `t4`
      WHERE
        COALESCE(`t4`.`m0` >= 3, FALSE)
    )
) AS `t6`
