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
                `t3`.`ts` >= CAST('2026-01-01T00:00:00+00:00' AS TIMESTAMP)
              )
              AND (
                `t3`.`ts` < CAST('2026-07-01T00:00:00+00:00' AS TIMESTAMP)
              )
              AND COALESCE(
                TRY_CAST(GET_JSON_OBJECT(CAST(`t3`.`properties` AS STRING), '$.price') AS DOUBLE) >= 10,
                FALSE
              ),
              GET_JSON_OBJECT(CAST(`t3`.`properties` AS STRING), '$.category'),
              NULL
            )
          ) AS `m0`,
          SUM(
            CAST((
              `t3`.`ts` >= CAST('2026-01-01T00:00:00+00:00' AS TIMESTAMP)
            )
            AND (
              `t3`.`ts` < CAST('2026-07-01T00:00:00+00:00' AS TIMESTAMP)
            )
            AND COALESCE(
              TRY_CAST(GET_JSON_OBJECT(CAST(`t3`.`properties` AS STRING), '$.price') AS DOUBLE) >= 10,
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
        ) AS `t3`
        GROUP BY
          1
      ) AS `t4`
      WHERE
        `t4`.`m0_n` > 0 AND COALESCE(COALESCE(`t4`.`m0`, 0) BETWEEN 2 AND 5, FALSE)
    )
) AS `t6`
