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
  WHERE
    "t3"."pid" IN (
      SELECT
        "t4"."pid"
      FROM (
        SELECT
          "t2"."pid",
          MAX("t2"."ts") FILTER(WHERE
            "t2"."ts" <= MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')) AS "m0"
        FROM (
          SELECT
            *
          FROM "events" AS "t1"
          WHERE
            "t1"."event" = 'order_completed'
            AND "t1"."ts" <= MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')
        ) AS "t2"
        GROUP BY
          1
      ) AS "t4"
      WHERE
        COALESCE("t4"."m0" <= MAKE_TIMESTAMPTZ(2026, 9, 2, 0, 0, 0.0, 'UTC'), FALSE)
    )
) AS "t6"
