SELECT
  "t9"."customer_id"
FROM (
  SELECT
    *
  FROM (
    SELECT
      "t0"."pid",
      "t0"."customer_id",
      "t0"."country"
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
  ) AS "t4"
  WHERE
    COALESCE("t4"."country" = 'US', FALSE)
    AND "t4"."pid" IN (
      SELECT
        "t5"."pid"
      FROM (
        SELECT
          "t2"."pid",
          COUNT(*) FILTER(WHERE
            (
              "t2"."ts" > MAKE_TIMESTAMPTZ(2026, 8, 3, 0, 0, 0.0, 'UTC')
            )
            AND (
              "t2"."ts" <= MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')
            )) AS "m0"
        FROM (
          SELECT
            *
          FROM "events" AS "t1"
          WHERE
            "t1"."event" = 'order_completed'
            AND "t1"."ts" >= MAKE_TIMESTAMPTZ(2026, 8, 3, 0, 0, 0.0, 'UTC')
            AND "t1"."ts" <= MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')
            AND "t1"."ts" > MAKE_TIMESTAMPTZ(2026, 8, 3, 0, 0, 0.0, 'UTC')
        ) AS "t2"
        GROUP BY
          1
      ) AS "t5"
      WHERE
        COALESCE("t5"."m0" >= 3, FALSE)
    )
    AND NOT (
      "t4"."pid" IN (
        SELECT
          "t6"."pid"
        FROM (
          SELECT
            "t3"."pid",
            COUNT(*) FILTER(WHERE
              (
                "t3"."ts" > MAKE_TIMESTAMPTZ(2026, 10, 2, 0, 0, 0.0, 'UTC')
              )
              AND (
                "t3"."ts" <= MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')
              )) AS "m1"
          FROM (
            SELECT
              *
            FROM "events" AS "t1"
            WHERE
              "t1"."event" = 'email_opened'
              AND "t1"."ts" >= MAKE_TIMESTAMPTZ(2026, 10, 2, 0, 0, 0.0, 'UTC')
              AND "t1"."ts" <= MAKE_TIMESTAMPTZ(2026, 11, 1, 0, 0, 0.0, 'UTC')
              AND "t1"."ts" > MAKE_TIMESTAMPTZ(2026, 10, 2, 0, 0, 0.0, 'UTC')
          ) AS "t3"
          GROUP BY
            1
        ) AS "t6"
        WHERE
          COALESCE("t6"."m1" >= 1, FALSE)
      )
    )
) AS "t9"
