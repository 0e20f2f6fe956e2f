SELECT
  "t7"."customer_id"
FROM (
  SELECT
    "t4"."pid",
    "t4"."customer_id",
    "t6"."m0_c",
    "t6"."m0_p"
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
  ) AS "t4"
  LEFT OUTER JOIN (
    SELECT
      "t2"."pid",
      COUNT_IF("t2"."m0_cf") AS "m0_c",
      COUNT_IF("t2"."m0_pf") AS "m0_p"
    FROM (
      SELECT
        "t1"."pid",
        (
          "t1"."ts" > TIMESTAMP_TZ_FROM_PARTS(2026, 9, 2, 0, 0, 0, 0, 'UTC')
        )
        AND (
          "t1"."ts" <= TIMESTAMP_TZ_FROM_PARTS(2026, 11, 1, 0, 0, 0, 0, 'UTC')
        ) AS "m0_cf",
        (
          "t1"."ts" > TIMESTAMP_TZ_FROM_PARTS(2026, 7, 4, 0, 0, 0, 0, 'UTC')
        )
        AND (
          "t1"."ts" <= TIMESTAMP_TZ_FROM_PARTS(2026, 9, 2, 0, 0, 0, 0, 'UTC')
        ) AS "m0_pf"
      FROM "events" AS "t1"
      WHERE
        "t1"."event" = 'order_completed'
        AND "t1"."ts" >= TIMESTAMP_TZ_FROM_PARTS(2026, 7, 4, 0, 0, 0, 0, 'UTC')
        AND "t1"."ts" <= TIMESTAMP_TZ_FROM_PARTS(2026, 11, 1, 0, 0, 0, 0, 'UTC')
    ) AS "t2"
    GROUP BY
      1
  ) AS "t6"
    ON "t4"."pid" = "t6"."pid"
) AS "t7"
WHERE
  COALESCE(
    (
      (
        CAST(COALESCE("t7"."m0_c", 0) AS DOUBLE) - CAST(COALESCE("t7"."m0_p", 0) AS DOUBLE)
      ) / NULLIF(CAST(COALESCE("t7"."m0_p", 0) AS DOUBLE), 0)
    ) <= -0.5,
    FALSE
  )
