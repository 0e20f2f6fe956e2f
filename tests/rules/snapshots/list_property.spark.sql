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
          SUM(
            CAST((
              `t3`.`ts` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
            )
            AND COALESCE(
              IF(
                FROM_JSON(GET_JSON_OBJECT(CAST(`t3`.`properties` AS STRING), '$.tags'), 'array<string>') IS NULL,
                NULL,
                COALESCE(
                  ARRAY_CONTAINS(
                    FROM_JSON(GET_JSON_OBJECT(CAST(`t3`.`properties` AS STRING), '$.tags'), 'array<string>'),
                    'gift'
                  ),
                  FALSE
                )
              ),
              FALSE
            ) AS BIGINT)
          ) AS `m0`
        FROM (
          SELECT
            *
          FROM `events` AS `t1`
          WHERE
            `t1`.`event` = 'order_completed'
            AND `t1`.`ts` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
            AND COALESCE(
              IF(
                FROM_JSON(GET_JSON_OBJECT(CAST(`t1`.`properties` AS STRING), '$.tags'), 'array<string>') IS NULL,
                NULL,
                COALESCE(
                  ARRAY_CONTAINS(
                    FROM_JSON(GET_JSON_OBJECT(CAST(`t1`.`properties` AS STRING), '$.tags'), 'array<string>'),
                    'gift'
                  ),
                  FALSE
                )
              ),
              FALSE
            )
        ) AS `t3`
        GROUP BY
          1
      ) AS `t4`
      WHERE
        COALESCE(`t4`.`m0` >= 1, FALSE)
    )
) AS `t6`
