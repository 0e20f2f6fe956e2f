SELECT
  `t9`.`customer_id`
FROM (
  SELECT
    `t3`.`pid`,
    `t3`.`customer_id`,
    `t8`.`pid` AS `pid_right`,
    `t8`.`hits0`
  FROM (
    SELECT
      `t0`.`pid`,
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
  ) AS `t3`
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
          `t4`.`pid`,
          COUNT(
            DISTINCT IF(
              (
                `t4`.`ts` >= CAST('2026-01-01T00:00:00+00:00' AS TIMESTAMP)
              )
              AND (
                `t4`.`ts` < CAST('2026-07-01T00:00:00+00:00' AS TIMESTAMP)
              )
              AND COALESCE(
                TRY_CAST(GET_JSON_OBJECT(CAST(`t4`.`properties` AS STRING), '$.price') AS DOUBLE) >= 10,
                FALSE
              ),
              GET_JSON_OBJECT(CAST(`t4`.`properties` AS STRING), '$.category'),
              NULL
            )
          ) AS `m0`,
          SUM(
            CAST((
              `t4`.`ts` >= CAST('2026-01-01T00:00:00+00:00' AS TIMESTAMP)
            )
            AND (
              `t4`.`ts` < CAST('2026-07-01T00:00:00+00:00' AS TIMESTAMP)
            )
            AND COALESCE(
              TRY_CAST(GET_JSON_OBJECT(CAST(`t4`.`properties` AS STRING), '$.price') AS DOUBLE) >= 10,
              FALSE
            ) AS BIGINT)
          ) AS `m0_n`
        FROM (
          SELECT
            *
          FROM `events` AS `t1`
          WHERE
            `t1`.`event` = 'product_view'
            AND `t1`.`ts` >= CAST('2026-01-01T00:00:00+00:00' AS TIMESTAMP)
            AND `t1`.`ts` <= CAST('2026-07-01T00:00:00+00:00' AS TIMESTAMP)
            AND `t1`.`ts` < CAST('2026-07-01T00:00:00+00:00' AS TIMESTAMP)
            AND COALESCE(
              TRY_CAST(GET_JSON_OBJECT(CAST(`t1`.`properties` AS STRING), '$.price') AS DOUBLE) >= 10,
              FALSE
            )
        ) AS `t4`
        GROUP BY
          1
      ) AS `t5`
      WHERE
        `t5`.`m0_n` > 0 AND COALESCE(COALESCE(`t5`.`m0`, 0) BETWEEN 2 AND 5, FALSE)
    ) AS `t6`
    GROUP BY
      1
  ) AS `t8`
    ON `t3`.`pid` = `t8`.`pid`
) AS `t9`
WHERE
  COALESCE((
    `t9`.`hits0` & 1
  ) <> 0, FALSE)
