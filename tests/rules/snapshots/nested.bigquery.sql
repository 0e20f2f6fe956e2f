SELECT
  `t6`.`customer_id`
FROM (
  SELECT
    *
  FROM (
    SELECT
      `t0`.`pid`,
      `t0`.`customer_id`,
      `t0`.`x_attr_2`,
      `t0`.`x_attr_3`,
      `t0`.`x_attr_4`,
      `t0`.`x_attr_5`,
      `t0`.`x_attr_6`
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
    (
      COALESCE(`t3`.`x_attr_4` = TRUE, FALSE)
      OR (
        COALESCE(`t3`.`x_attr_2` > 100, FALSE)
        AND COALESCE(`t3`.`x_attr_3` BETWEEN 0.5 AND 2.5, FALSE)
      )
    )
    AND NOT (
      COALESCE(STARTS_WITH(`t3`.`x_attr_6`, 'free'), FALSE)
      OR COALESCE(`t3`.`x_attr_5` <= TIMESTAMP('2026-10-02T00:00:00+00:00'), FALSE)
    )
    AND `t3`.`pid` IN (
      SELECT
        `t4`.`pid`
      FROM (
        SELECT
          `t2`.`pid`,
          COUNTIF(
            (
              `t2`.`ts` > TIMESTAMP('2026-09-02T00:00:00+00:00')
            )
            AND (
              `t2`.`ts` <= TIMESTAMP('2026-10-02T00:00:00+00:00')
            )
          ) AS `m0`
        FROM (
          SELECT
            *
          FROM `events` AS `t1`
          WHERE
            `t1`.`event` = 'product_view'
            AND `t1`.`ts` >= TIMESTAMP('2026-09-02T00:00:00+00:00')
            AND `t1`.`ts` <= TIMESTAMP('2026-10-02T00:00:00+00:00')
            AND `t1`.`ts` > TIMESTAMP('2026-09-02T00:00:00+00:00')
        ) AS `t2`
        GROUP BY
          1
      ) AS `t4`
      WHERE
        COALESCE(`t4`.`m0` >= 1, FALSE)
    )
) AS `t6`
