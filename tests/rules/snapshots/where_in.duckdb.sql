SELECT
  "t8"."customer_id"
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
        "t6"."pid"
      FROM (
        SELECT
          "t5"."pid",
          COUNT(*) FILTER(WHERE
            "t5"."m0_f") AS "m0"
        FROM (
          SELECT
            "t4"."pid",
            (
              "t4"."ts" > MAKE_TIMESTAMPTZ(2026, 8, 3, 0, 0, 0.0, 'UTC')
            )
            AND (
              "t4"."ts" <= MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')
            )
            AND COALESCE((
              "t4"."properties" ->> '$.category'
            ) IN ('shoes', 'hats'), FALSE) AS "m0_f"
          FROM (
            SELECT
              *
            FROM (
              SELECT
                *
              FROM "events" AS "t1"
              WHERE
                "t1"."event" = 'order_completed'
                AND "t1"."ts" >= MAKE_TIMESTAMPTZ(2026, 8, 3, 0, 0, 0.0, 'UTC')
                AND "t1"."ts" <= MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')
            ) AS "t2"
            WHERE
              "t2"."ts" > MAKE_TIMESTAMPTZ(2026, 8, 3, 0, 0, 0.0, 'UTC')
              AND "t2"."ts" <= MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')
              AND COALESCE((
                "t2"."properties" ->> '$.category'
              ) IN ('shoes', 'hats'), FALSE)
          ) AS "t4"
        ) AS "t5"
        GROUP BY
          1
      ) AS "t6"
      WHERE
        COALESCE("t6"."m0" >= 3, FALSE)
    )
) AS "t8"
