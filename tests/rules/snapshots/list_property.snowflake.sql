SELECT
  "t6"."customer_id"
FROM (
  SELECT
    *
  FROM (
    SELECT
      "t0"."pid",
      "t0"."customer_id"
    FROM "profiles" AS "t0"
    WHERE
      "t0"."customer_id" IS NOT NULL
      AND (
        (
          "t0"."created_at" <= TIMESTAMP_TZ_FROM_PARTS(2026, 11, 1, 0, 0, 0, 0, 'UTC')
        )
        OR (
          (
            "t0"."created_at" IS NULL
          )
          AND (
            (
              "t0"."first_event_at" IS NULL
            )
            OR (
              "t0"."first_event_at" <= TIMESTAMP_TZ_FROM_PARTS(2026, 11, 1, 0, 0, 0, 0, 'UTC')
            )
          )
        )
      )
  ) AS "t2"
  WHERE
    "t2"."pid" IN (
      SELECT
        "t4"."pid"
      FROM (
        SELECT
          "t3"."pid",
          COUNT_IF(
            (
              "t3"."ts" <= TIMESTAMP_TZ_FROM_PARTS(2026, 11, 1, 0, 0, 0, 0, 'UTC')
            )
            AND COALESCE(
              ARRAY_CONTAINS(
                TO_VARIANT('gift'),
                TRANSFORM(
                  AS_ARRAY(GET("t3"."properties", 'tags')),
                  __ibis_param_item__ -> AS_VARCHAR(__ibis_param_item__)
                )
              ),
              FALSE
            )
          ) AS "m0"
        FROM (
          SELECT
            *
          FROM "events" AS "t1"
          WHERE
            "t1"."event" = 'order_completed'
            AND "t1"."ts" <= TIMESTAMP_TZ_FROM_PARTS(2026, 11, 1, 0, 0, 0, 0, 'UTC')
            AND COALESCE(
              ARRAY_CONTAINS(
                TO_VARIANT('gift'),
                TRANSFORM(
                  AS_ARRAY(GET("t1"."properties", 'tags')),
                  __ibis_param_item__ -> AS_VARCHAR(__ibis_param_item__)
                )
              ),
              FALSE
            )
        ) AS "t3"
        GROUP BY
          1
      ) AS "t4"
      WHERE
        COALESCE("t4"."m0" >= 1, FALSE)
    )
) AS "t6"
