SELECT
  "t7"."customer_id"
FROM (
  SELECT
    "t3"."pid",
    "t3"."customer_id",
    "t6"."m0",
    "t6"."m0_n"
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
  ) AS "t3"
  LEFT OUTER JOIN (
    SELECT
      "t4"."pid",
      COUNT(DISTINCT "t4"."m0_v") AS "m0",
      COUNT_IF("t4"."m0_f") AS "m0_n"
    FROM (
      SELECT
        "t1"."pid",
        IFF(
          (
            "t1"."ts" >= TIMESTAMP_TZ_FROM_PARTS(2026, 1, 1, 0, 0, 0, 0, 'UTC')
          )
          AND (
            "t1"."ts" < TIMESTAMP_TZ_FROM_PARTS(2026, 7, 1, 0, 0, 0, 0, 'UTC')
          )
          AND COALESCE(AS_DOUBLE(GET("t1"."properties", 'price')) >= 10, FALSE),
          AS_VARCHAR(GET("t1"."properties", 'category')),
          NULL
        ) AS "m0_v",
        (
          "t1"."ts" >= TIMESTAMP_TZ_FROM_PARTS(2026, 1, 1, 0, 0, 0, 0, 'UTC')
        )
        AND (
          "t1"."ts" < TIMESTAMP_TZ_FROM_PARTS(2026, 7, 1, 0, 0, 0, 0, 'UTC')
        )
        AND COALESCE(AS_DOUBLE(GET("t1"."properties", 'price')) >= 10, FALSE) AS "m0_f"
      FROM "events" AS "t1"
      WHERE
        "t1"."event" = 'product_view'
        AND "t1"."ts" >= TIMESTAMP_TZ_FROM_PARTS(2026, 1, 1, 0, 0, 0, 0, 'UTC')
        AND "t1"."ts" <= TIMESTAMP_TZ_FROM_PARTS(2026, 7, 1, 0, 0, 0, 0, 'UTC')
    ) AS "t4"
    GROUP BY
      1
  ) AS "t6"
    ON "t3"."pid" = "t6"."pid"
) AS "t7"
WHERE
  COALESCE("t7"."m0_n", 0) > 0
  AND COALESCE(COALESCE("t7"."m0", 0) BETWEEN 2 AND 5, FALSE)
