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
  AND COALESCE("t0"."created_at" > MAKE_TIMESTAMPTZ(2025, 1, 1, 0, 0, 0.0, 'UTC'), FALSE)
  AND COALESCE("t0"."birth_date" < MAKE_DATE(1990, 6, 30), FALSE)
  AND COALESCE(
    (
      "t0"."x_attr_5" > MAKE_TIMESTAMPTZ(2026, 10, 25, 0, 0, 0.0, 'UTC')
    )
    AND (
      "t0"."x_attr_5" <= MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')
    ),
    FALSE
  )
