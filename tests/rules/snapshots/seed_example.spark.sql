SELECT
  `t10`.`customer_id`
FROM (
  SELECT
    `t9`.`pid`,
    `t9`.`customer_id`,
    `t9`.`x_attr_0`,
    `t9`.`x_attr_1`,
    `t9`.`hits0`
  FROM (
    SELECT
      `t4`.`pid`,
      `t4`.`customer_id`,
      `t4`.`x_attr_0`,
      `t4`.`x_attr_1`,
      `t8`.`pid` AS `pid_right`,
      `t8`.`hits0`
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
    ) AS `t4`
    LEFT OUTER JOIN (
      SELECT
        `t6`.`pid`,
        BIT_OR(`t6`.`hits0`) AS `hits0`
      FROM (
        SELECT
          `t5`.`pid`,
          1 AS `hits0`
        FROM (
          SELECT
            `t2`.`pid`,
            SUM(
              CAST((
                `t2`.`ts` > CAST('2026-08-03T00:00:00+00:00' AS TIMESTAMP)
              )
              AND (
                `t2`.`ts` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
              ) AS BIGINT)
            ) AS `m0`
          FROM (
            SELECT
              *
            FROM `events` AS `t1`
            WHERE
              `t1`.`event` = 'app_open'
              AND `t1`.`ts` >= CAST('2026-08-03T00:00:00+00:00' AS TIMESTAMP)
              AND `t1`.`ts` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
              AND `t1`.`ts` > CAST('2026-08-03T00:00:00+00:00' AS TIMESTAMP)
          ) AS `t2`
          GROUP BY
            1
        ) AS `t5`
        WHERE
          COALESCE(`t5`.`m0` >= 1, FALSE)
      ) AS `t6`
      GROUP BY
        1
    ) AS `t8`
      ON `t4`.`pid` = `t8`.`pid`
  ) AS `t9`
) AS `t10`
WHERE
  COALESCE(`t10`.`x_attr_0` = 'ios', FALSE)
  AND COALESCE(
    IF(
      `t10`.`x_attr_1` IS NULL,
      NULL,
      COALESCE(ARRAY_CONTAINS(`t10`.`x_attr_1`, 'boxing'), FALSE)
    ),
    FALSE
  )
  AND NOT (
    COALESCE((
      `t10`.`hits0` & 1
    ) <> 0, FALSE)
  )
