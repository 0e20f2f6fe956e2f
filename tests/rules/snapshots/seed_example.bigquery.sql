SELECT
  `t7`.`customer_id`
FROM (
  SELECT
    `t4`.`pid`,
    `t4`.`customer_id`,
    `t4`.`x_attr_0`,
    `t4`.`x_attr_1`,
    `t6`.`m0`
  FROM (
    SELECT
      `t0`.`pid`,
      `t0`.`customer_id`,
      `t0`.`x_attr_0`,
      `t0`.`x_attr_1`
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
  ) AS `t4`
  LEFT OUTER JOIN (
    SELECT
      `t2`.`pid`,
      COUNTIF(`t2`.`m0_f`) AS `m0`
    FROM (
      SELECT
        `t1`.`pid`,
        (
          `t1`.`ts` > TIMESTAMP('2026-08-03T00:00:00+00:00')
        )
        AND (
          `t1`.`ts` <= TIMESTAMP('2026-11-01T00:00:00+00:00')
        ) AS `m0_f`
      FROM `events` AS `t1`
      WHERE
        `t1`.`event` = 'app_open'
        AND `t1`.`ts` >= TIMESTAMP('2026-08-03T00:00:00+00:00')
        AND `t1`.`ts` <= TIMESTAMP('2026-11-01T00:00:00+00:00')
    ) AS `t2`
    GROUP BY
      1
  ) AS `t6`
    ON `t4`.`pid` = `t6`.`pid`
) AS `t7`
WHERE
  COALESCE(`t7`.`x_attr_0` = 'ios', FALSE)
  AND COALESCE(
    EXISTS(
      SELECT
        1
      FROM UNNEST(`t7`.`x_attr_1`) AS ibis_bq_arr_contains_N
      WHERE
        ibis_bq_arr_contains_N = 'boxing'
    ),
    FALSE
  )
  AND NOT (
    COALESCE(COALESCE(`t7`.`m0`, 0) >= 1, FALSE)
  )
