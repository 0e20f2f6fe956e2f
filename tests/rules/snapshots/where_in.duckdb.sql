SELECT
  "t7"."customer_id"
FROM (
  SELECT
    "t3"."pid",
    "t3"."customer_id",
    "t6"."m0"
  FROM (
    SELECT
      "t0"."pid",
      "t0"."customer_id"
    FROM "profiles" AS "t0"
    WHERE
      "t0"."customer_id" IS NOT NULL
      AND (
        (
          "t0"."created_at" <= MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')
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
              "t0"."first_event_at" <= MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')
            )
          )
        )
      )
  ) AS "t3"
  LEFT OUTER JOIN (
    SELECT
      "t4"."pid",
      COUNT(*) FILTER(WHERE
        "t4"."m0_f") AS "m0"
    FROM (
      SELECT
        "t1"."pid",
        (
          "t1"."ts" > MAKE_TIMESTAMPTZ(2026, 8, 3, 0, 0, 0.0, 'UTC')
        )
        AND (
          "t1"."ts" <= MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')
        )
        AND COALESCE(
          CASE
            WHEN JSON_TYPE("t1"."properties" -> '$.category') = 'VARCHAR'
            THEN (
              "t1"."properties" -> '$.category'
            ) ->> '$'
            ELSE NULL
          END IN ('shoes', 'hats'),
          FALSE
        ) AS "m0_f"
      FROM "events" AS "t1"
      WHERE
        "t1"."event" = 'order_completed'
        AND "t1"."ts" >= MAKE_TIMESTAMPTZ(2026, 8, 3, 0, 0, 0.0, 'UTC')
        AND "t1"."ts" <= MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')
    ) AS "t4"
    GROUP BY
      1
  ) AS "t6"
    ON "t3"."pid" = "t6"."pid"
) AS "t7"
WHERE
  COALESCE(COALESCE("t7"."m0", 0) >= 3, FALSE)
