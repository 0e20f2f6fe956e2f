SELECT
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
  AND (
    COALESCE("t0"."x_attr_2" > 1000, FALSE)
    OR COALESCE("t0"."x_attr_4" = TRUE, FALSE)
  )
  AND "t0"."country" IS NOT NULL
  AND NOT (
    "t0"."country" IN ('US', 'CA')
  )
