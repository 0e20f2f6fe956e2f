WITH `t4` AS (
  SELECT
    *
  FROM `events` AS `t1`
  WHERE
    `t1`.`event` IN ('order_completed')
    AND `t1`.`ts` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
), `t10` AS (
  SELECT
    *
  FROM `profiles` AS `t2`
  WHERE
    `t2`.`customer_id` IS NOT NULL
    AND (
      (
        `t2`.`created_at` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
      )
      OR (
        (
          `t2`.`created_at` IS NULL
        )
        AND (
          (
            `t2`.`first_event_at` IS NULL
          )
          OR (
            `t2`.`first_event_at` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
          )
        )
      )
    )
), `t21` AS (
  SELECT
    *
  FROM (
    SELECT
      `t8`.`day` - LAG(`t8`.`day`) OVER (PARTITION BY `t8`.`pid` ORDER BY `t8`.`day` ASC NULLS LAST) AS `gap`
    FROM (
      SELECT DISTINCT
        `t1`.`pid`,
        CAST(FLOOR(
          (
            DATEDIFF(MICROSECOND, CAST('1970-01-01T00:00:00+00:00' AS TIMESTAMP), `t1`.`ts`)
          ) / (
            86400000000
          )
        ) AS BIGINT) AS `day`
      FROM `events` AS `t1`
      WHERE
        `t1`.`event` IN ('order_completed')
        AND `t1`.`ts` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
    ) AS `t8`
  ) AS `t17`
  WHERE
    `t17`.`gap` IS NOT NULL
)
SELECT
  `t52`.`customer_id`
FROM (
  SELECT
    `t51`.`pid`,
    `t51`.`customer_id`,
    CAST(FLOOR(
      (
        DATEDIFF(
          MICROSECOND,
          CAST('1970-01-01T00:00:00+00:00' AS TIMESTAMP),
          CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
        ) - DATEDIFF(MICROSECOND, CAST('1970-01-01T00:00:00+00:00' AS TIMESTAMP), `t51`.`last_seen`)
      ) / (
        86400000000
      )
    ) AS BIGINT) AS `days_since_last_seen`,
    CASE
      WHEN `t51`.`orders_count` IS NULL
      THEN 'subscriber'
      WHEN CAST(FLOOR(
        (
          DATEDIFF(
            MICROSECOND,
            CAST('1970-01-01T00:00:00+00:00' AS TIMESTAMP),
            CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
          ) - DATEDIFF(MICROSECOND, CAST('1970-01-01T00:00:00+00:00' AS TIMESTAMP), `t51`.`last_order_at`)
        ) / (
          86400000000
        )
      ) AS BIGINT) > `t51`.`churned_days`
      THEN 'churned'
      WHEN CAST(FLOOR(
        (
          DATEDIFF(
            MICROSECOND,
            CAST('1970-01-01T00:00:00+00:00' AS TIMESTAMP),
            CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
          ) - DATEDIFF(MICROSECOND, CAST('1970-01-01T00:00:00+00:00' AS TIMESTAMP), `t51`.`last_order_at`)
        ) / (
          86400000000
        )
      ) AS BIGINT) > `t51`.`lapsed_days`
      THEN 'lapsed'
      WHEN CAST(FLOOR(
        (
          DATEDIFF(
            MICROSECOND,
            CAST('1970-01-01T00:00:00+00:00' AS TIMESTAMP),
            CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
          ) - DATEDIFF(MICROSECOND, CAST('1970-01-01T00:00:00+00:00' AS TIMESTAMP), `t51`.`last_order_at`)
        ) / (
          86400000000
        )
      ) AS BIGINT) > `t51`.`at_risk_days`
      THEN 'at_risk'
      WHEN `t51`.`orders_count` >= `t51`.`loyal_orders`
      THEN 'loyal'
      WHEN `t51`.`orders_count` >= 2
      THEN 'repeat_buyer'
      ELSE 'first_time_buyer'
    END AS `lifecycle_stage`,
    `t51`.`p_alive`,
    `t51`.`rfm_segment`
  FROM (
    SELECT
      `t50`.`pid`,
      `t50`.`customer_id`,
      `t50`.`created_at`,
      `t50`.`first_event_at`,
      `t50`.`last_event_at`,
      `t50`.`email`,
      `t50`.`phone`,
      `t50`.`first_name`,
      `t50`.`last_name`,
      `t50`.`country`,
      `t50`.`region`,
      `t50`.`city`,
      `t50`.`postal_code`,
      `t50`.`gender`,
      `t50`.`birth_date`,
      `t50`.`email_consent`,
      `t50`.`sms_consent`,
      `t50`.`x_attr_0`,
      `t50`.`x_attr_1`,
      `t50`.`x_attr_2`,
      `t50`.`x_attr_3`,
      `t50`.`x_attr_4`,
      `t50`.`x_attr_5`,
      `t50`.`x_attr_6`,
      `t50`.`orders_count`,
      `t50`.`revenue_total`,
      `t50`.`first_order_at`,
      `t50`.`last_order_at`,
      `t50`.`orders_60d`,
      `t50`.`orders_prior_60d`,
      `t50`.`scanned_last`,
      `t50`.`last_seen`,
      `t50`.`p_alive`,
      `t50`.`predicted_orders_365d`,
      `t50`.`predicted_clv_365d`,
      `t50`.`at_risk_days`,
      `t50`.`lapsed_days`,
      `t50`.`churned_days`,
      `t50`.`loyal_orders`,
      `t50`.`r_score`,
      `t50`.`f_score`,
      `t50`.`m_score`,
      `t50`.`rfm_segment`
    FROM (
      SELECT
        `t47`.`pid`,
        `t47`.`customer_id`,
        `t47`.`created_at`,
        `t47`.`first_event_at`,
        `t47`.`last_event_at`,
        `t47`.`email`,
        `t47`.`phone`,
        `t47`.`first_name`,
        `t47`.`last_name`,
        `t47`.`country`,
        `t47`.`region`,
        `t47`.`city`,
        `t47`.`postal_code`,
        `t47`.`gender`,
        `t47`.`birth_date`,
        `t47`.`email_consent`,
        `t47`.`sms_consent`,
        `t47`.`x_attr_0`,
        `t47`.`x_attr_1`,
        `t47`.`x_attr_2`,
        `t47`.`x_attr_3`,
        `t47`.`x_attr_4`,
        `t47`.`x_attr_5`,
        `t47`.`x_attr_6`,
        `t47`.`orders_count`,
        `t47`.`revenue_total`,
        `t47`.`first_order_at`,
        `t47`.`last_order_at`,
        `t47`.`orders_60d`,
        `t47`.`orders_prior_60d`,
        `t47`.`scanned_last`,
        `t47`.`last_seen`,
        `t47`.`p_alive`,
        `t47`.`predicted_orders_365d`,
        `t47`.`predicted_clv_365d`,
        `t41`.`at_risk_days`,
        `t41`.`lapsed_days`,
        `t41`.`churned_days`,
        `t41`.`loyal_orders`,
        `t49`.`pid` AS `pid_right`,
        `t49`.`r_score`,
        `t49`.`f_score`,
        `t49`.`m_score`,
        `t49`.`rfm_segment`
      FROM (
        SELECT
          `t44`.`pid`,
          `t44`.`customer_id`,
          `t44`.`created_at`,
          `t44`.`first_event_at`,
          `t44`.`last_event_at`,
          `t44`.`email`,
          `t44`.`phone`,
          `t44`.`first_name`,
          `t44`.`last_name`,
          `t44`.`country`,
          `t44`.`region`,
          `t44`.`city`,
          `t44`.`postal_code`,
          `t44`.`gender`,
          `t44`.`birth_date`,
          `t44`.`email_consent`,
          `t44`.`sms_consent`,
          `t44`.`x_attr_0`,
          `t44`.`x_attr_1`,
          `t44`.`x_attr_2`,
          `t44`.`x_attr_3`,
          `t44`.`x_attr_4`,
          `t44`.`x_attr_5`,
          `t44`.`x_attr_6`,
          `t44`.`orders_count`,
          `t44`.`revenue_total`,
          `t44`.`first_order_at`,
          `t44`.`last_order_at`,
          `t44`.`orders_60d`,
          `t44`.`orders_prior_60d`,
          `t44`.`scanned_last`,
          `t44`.`last_seen`,
          `t44`.`p_alive`,
          `t44`.`predicted_orders_365d`,
          `t44`.`predicted_clv_365d`
        FROM (
          SELECT
            `t43`.`pid`,
            `t43`.`customer_id`,
            `t43`.`created_at`,
            `t43`.`first_event_at`,
            `t43`.`last_event_at`,
            `t43`.`email`,
            `t43`.`phone`,
            `t43`.`first_name`,
            `t43`.`last_name`,
            `t43`.`country`,
            `t43`.`region`,
            `t43`.`city`,
            `t43`.`postal_code`,
            `t43`.`gender`,
            `t43`.`birth_date`,
            `t43`.`email_consent`,
            `t43`.`sms_consent`,
            `t43`.`x_attr_0`,
            `t43`.`x_attr_1`,
            `t43`.`x_attr_2`,
            `t43`.`x_attr_3`,
            `t43`.`x_attr_4`,
            `t43`.`x_attr_5`,
            `t43`.`x_attr_6`,
            `t43`.`orders_count`,
            `t43`.`revenue_total`,
            `t43`.`first_order_at`,
            `t43`.`last_order_at`,
            `t43`.`orders_60d`,
            `t43`.`orders_prior_60d`,
            `t43`.`scanned_last`,
            `t43`.`last_seen`,
            `t3`.`pid` AS `pid_right`,
            `t3`.`p_alive`,
            `t3`.`predicted_orders_365d`,
            `t3`.`predicted_clv_365d`
          FROM (
            SELECT
              `t36`.`pid`,
              `t36`.`customer_id`,
              `t36`.`created_at`,
              `t36`.`first_event_at`,
              `t36`.`last_event_at`,
              `t36`.`email`,
              `t36`.`phone`,
              `t36`.`first_name`,
              `t36`.`last_name`,
              `t36`.`country`,
              `t36`.`region`,
              `t36`.`city`,
              `t36`.`postal_code`,
              `t36`.`gender`,
              `t36`.`birth_date`,
              `t36`.`email_consent`,
              `t36`.`sms_consent`,
              `t36`.`x_attr_0`,
              `t36`.`x_attr_1`,
              `t36`.`x_attr_2`,
              `t36`.`x_attr_3`,
              `t36`.`x_attr_4`,
              `t36`.`x_attr_5`,
              `t36`.`x_attr_6`,
              `t36`.`orders_count`,
              `t36`.`revenue_total`,
              `t36`.`first_order_at`,
              `t36`.`last_order_at`,
              `t36`.`orders_60d`,
              `t36`.`orders_prior_60d`,
              `t36`.`scanned_last`,
              IF(
                COALESCE(`t36`.`last_event_at` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP), FALSE),
                `t36`.`last_event_at`,
                `t36`.`scanned_last`
              ) AS `last_seen`
            FROM (
              SELECT
                `t33`.`pid`,
                `t33`.`customer_id`,
                `t33`.`created_at`,
                `t33`.`first_event_at`,
                `t33`.`last_event_at`,
                `t33`.`email`,
                `t33`.`phone`,
                `t33`.`first_name`,
                `t33`.`last_name`,
                `t33`.`country`,
                `t33`.`region`,
                `t33`.`city`,
                `t33`.`postal_code`,
                `t33`.`gender`,
                `t33`.`birth_date`,
                `t33`.`email_consent`,
                `t33`.`sms_consent`,
                `t33`.`x_attr_0`,
                `t33`.`x_attr_1`,
                `t33`.`x_attr_2`,
                `t33`.`x_attr_3`,
                `t33`.`x_attr_4`,
                `t33`.`x_attr_5`,
                `t33`.`x_attr_6`,
                `t33`.`orders_count`,
                `t33`.`revenue_total`,
                `t33`.`first_order_at`,
                `t33`.`last_order_at`,
                `t33`.`orders_60d`,
                `t33`.`orders_prior_60d`,
                `t33`.`scanned_last`
              FROM (
                SELECT
                  `t32`.`pid`,
                  `t32`.`customer_id`,
                  `t32`.`created_at`,
                  `t32`.`first_event_at`,
                  `t32`.`last_event_at`,
                  `t32`.`email`,
                  `t32`.`phone`,
                  `t32`.`first_name`,
                  `t32`.`last_name`,
                  `t32`.`country`,
                  `t32`.`region`,
                  `t32`.`city`,
                  `t32`.`postal_code`,
                  `t32`.`gender`,
                  `t32`.`birth_date`,
                  `t32`.`email_consent`,
                  `t32`.`sms_consent`,
                  `t32`.`x_attr_0`,
                  `t32`.`x_attr_1`,
                  `t32`.`x_attr_2`,
                  `t32`.`x_attr_3`,
                  `t32`.`x_attr_4`,
                  `t32`.`x_attr_5`,
                  `t32`.`x_attr_6`,
                  `t32`.`orders_count`,
                  `t32`.`revenue_total`,
                  `t32`.`first_order_at`,
                  `t32`.`last_order_at`,
                  `t32`.`orders_60d`,
                  `t32`.`orders_prior_60d`,
                  `t27`.`pid` AS `pid_right`,
                  `t27`.`scanned_last`
                FROM (
                  SELECT
                    `t30`.`pid`,
                    `t30`.`customer_id`,
                    `t30`.`created_at`,
                    `t30`.`first_event_at`,
                    `t30`.`last_event_at`,
                    `t30`.`email`,
                    `t30`.`phone`,
                    `t30`.`first_name`,
                    `t30`.`last_name`,
                    `t30`.`country`,
                    `t30`.`region`,
                    `t30`.`city`,
                    `t30`.`postal_code`,
                    `t30`.`gender`,
                    `t30`.`birth_date`,
                    `t30`.`email_consent`,
                    `t30`.`sms_consent`,
                    `t30`.`x_attr_0`,
                    `t30`.`x_attr_1`,
                    `t30`.`x_attr_2`,
                    `t30`.`x_attr_3`,
                    `t30`.`x_attr_4`,
                    `t30`.`x_attr_5`,
                    `t30`.`x_attr_6`,
                    `t30`.`orders_count`,
                    `t30`.`revenue_total`,
                    `t30`.`first_order_at`,
                    `t30`.`last_order_at`,
                    `t30`.`orders_60d`,
                    `t30`.`orders_prior_60d`
                  FROM (
                    SELECT
                      `t15`.`pid`,
                      `t15`.`customer_id`,
                      `t15`.`created_at`,
                      `t15`.`first_event_at`,
                      `t15`.`last_event_at`,
                      `t15`.`email`,
                      `t15`.`phone`,
                      `t15`.`first_name`,
                      `t15`.`last_name`,
                      `t15`.`country`,
                      `t15`.`region`,
                      `t15`.`city`,
                      `t15`.`postal_code`,
                      `t15`.`gender`,
                      `t15`.`birth_date`,
                      `t15`.`email_consent`,
                      `t15`.`sms_consent`,
                      `t15`.`x_attr_0`,
                      `t15`.`x_attr_1`,
                      `t15`.`x_attr_2`,
                      `t15`.`x_attr_3`,
                      `t15`.`x_attr_4`,
                      `t15`.`x_attr_5`,
                      `t15`.`x_attr_6`,
                      `t26`.`pid` AS `pid_right`,
                      `t26`.`orders_count`,
                      `t26`.`revenue_total`,
                      `t26`.`first_order_at`,
                      `t26`.`last_order_at`,
                      `t26`.`orders_60d`,
                      `t26`.`orders_prior_60d`
                    FROM `t10` AS `t15`
                    LEFT OUTER JOIN (
                      SELECT
                        `t18`.`pid`,
                        `t18`.`orders_count`,
                        `t18`.`revenue_total`,
                        `t18`.`first_order_at`,
                        `t18`.`last_order_at`,
                        `t18`.`orders_60d`,
                        `t18`.`orders_prior_60d`
                      FROM (
                        SELECT
                          `t6`.`pid`,
                          COUNT(*) AS `orders_count`,
                          COALESCE(SUM(`t6`.`revenue`), 0) AS `revenue_total`,
                          MIN(`t6`.`ts`) AS `first_order_at`,
                          MAX(`t6`.`ts`) AS `last_order_at`,
                          SUM(CAST(`t6`.`ts` > CAST('2026-09-02T00:00:00+00:00' AS TIMESTAMP) AS BIGINT)) AS `orders_60d`,
                          SUM(
                            CAST((
                              `t6`.`ts` > CAST('2026-07-04T00:00:00+00:00' AS TIMESTAMP)
                            )
                            AND (
                              `t6`.`ts` <= CAST('2026-09-02T00:00:00+00:00' AS TIMESTAMP)
                            ) AS BIGINT)
                          ) AS `orders_prior_60d`
                        FROM `t4` AS `t6`
                        GROUP BY
                          1
                      ) AS `t18`
                      LEFT SEMI JOIN `t10` AS `t14`
                        ON `t18`.`pid` = `t14`.`pid`
                    ) AS `t26`
                      ON `t15`.`pid` = `t26`.`pid`
                  ) AS `t30`
                ) AS `t32`
                LEFT OUTER JOIN (
                  SELECT
                    `t19`.`pid`,
                    MAX(`t19`.`ts`) AS `scanned_last`
                  FROM (
                    SELECT
                      `t7`.`pid`,
                      `t7`.`event`,
                      `t7`.`ts`,
                      `t7`.`revenue`,
                      `t7`.`properties`
                    FROM (
                      SELECT
                        *
                      FROM `events` AS `t1`
                      WHERE
                        `t1`.`ts` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
                    ) AS `t7`
                    LEFT SEMI JOIN (
                      SELECT
                        `t2`.`pid`
                      FROM `profiles` AS `t2`
                      WHERE
                        `t2`.`customer_id` IS NOT NULL
                        AND (
                          (
                            `t2`.`created_at` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
                          )
                          OR (
                            (
                              `t2`.`created_at` IS NULL
                            )
                            AND (
                              (
                                `t2`.`first_event_at` IS NULL
                              )
                              OR (
                                `t2`.`first_event_at` <= CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
                              )
                            )
                          )
                        )
                        AND `t2`.`last_event_at` > CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
                    ) AS `t13`
                      ON `t7`.`pid` = `t13`.`pid`
                  ) AS `t19`
                  GROUP BY
                    1
                ) AS `t27`
                  ON `t32`.`pid` = `t27`.`pid`
              ) AS `t33`
            ) AS `t36`
          ) AS `t43`
          LEFT OUTER JOIN `segmint_clv` AS `t3`
            ON `t43`.`pid` = `t3`.`pid`
        ) AS `t44`
      ) AS `t47`
      CROSS JOIN (
        SELECT
          `t37`.`at_risk_days`,
          `t37`.`lapsed_days`,
          `t37`.`churned_days`,
          `t22`.`loyal_orders`
        FROM (
          SELECT
            IF(`t28`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t28`.`q_at_risk`) AS BIGINT), 1), 90) AS `at_risk_days`,
            GREATEST(
              IF(`t28`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t28`.`q_lapsed`) AS BIGINT), 1), 180),
              IF(`t28`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t28`.`q_at_risk`) AS BIGINT), 1), 90) + 1
            ) AS `lapsed_days`,
            GREATEST(
              IF(`t28`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t28`.`q_churned`) AS BIGINT), 1), 365),
              GREATEST(
                IF(`t28`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t28`.`q_lapsed`) AS BIGINT), 1), 180),
                IF(`t28`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t28`.`q_at_risk`) AS BIGINT), 1), 90) + 1
              ) + 1
            ) AS `churned_days`
          FROM (
            SELECT
              COUNT(*) AS `n_gaps`,
              PERCENTILE(`t23`.`gap`, 0.75) AS `q_at_risk`,
              PERCENTILE(`t23`.`gap`, 0.9) AS `q_lapsed`,
              PERCENTILE(`t23`.`gap`, 0.97) AS `q_churned`
            FROM `t21` AS `t23`
          ) AS `t28`
        ) AS `t37`
        CROSS JOIN (
          SELECT
            GREATEST(COALESCE(CAST(CEIL(PERCENTILE(`t9`.`n`, 0.8)) AS BIGINT), 3), 3) AS `loyal_orders`
          FROM (
            SELECT
              `t6`.`pid`,
              COUNT(*) AS `n`
            FROM `t4` AS `t6`
            GROUP BY
              1
          ) AS `t9`
        ) AS `t22`
      ) AS `t41`
      LEFT OUTER JOIN (
        SELECT
          `t45`.`pid`,
          `t45`.`r_score`,
          `t45`.`f_score`,
          `t45`.`m_score`,
          CASE (
              `t45`.`r_score` * 10
            ) + CAST(FLOOR((
              `t45`.`f_score` + `t45`.`m_score` + 1
            ) / (
              2
            )) AS BIGINT)
            WHEN 51
            THEN 'New'
            WHEN 52
            THEN 'Potential Loyalist'
            WHEN 53
            THEN 'Potential Loyalist'
            WHEN 54
            THEN 'Champions'
            WHEN 55
            THEN 'Champions'
            WHEN 41
            THEN 'Promising'
            WHEN 42
            THEN 'Potential Loyalist'
            WHEN 43
            THEN 'Loyal'
            WHEN 44
            THEN 'Loyal'
            WHEN 45
            THEN 'Champions'
            WHEN 31
            THEN 'About to Sleep'
            WHEN 32
            THEN 'Need Attention'
            WHEN 33
            THEN 'Need Attention'
            WHEN 34
            THEN 'Loyal'
            WHEN 35
            THEN 'Loyal'
            WHEN 21
            THEN 'Hibernating'
            WHEN 22
            THEN 'About to Sleep'
            WHEN 23
            THEN 'At Risk'
            WHEN 24
            THEN 'At Risk'
            WHEN 25
            THEN 'Can\'t Lose'
            WHEN 11
            THEN 'Lost'
            WHEN 12
            THEN 'Hibernating'
            WHEN 13
            THEN 'Hibernating'
            WHEN 14
            THEN 'Hibernating'
            WHEN 15
            THEN 'Hibernating'
            ELSE NULL
          END AS `rfm_segment`
        FROM (
          SELECT
            `t40`.`pid`,
            CAST(CASE
              WHEN `t40`.`days` <= `t40`.`recent_days`
              THEN 5
              WHEN `t40`.`days` <= `t40`.`at_risk_days`
              THEN 4
              WHEN `t40`.`days` <= `t40`.`lapsed_days`
              THEN 3
              WHEN `t40`.`days` <= `t40`.`churned_days`
              THEN 2
              ELSE 1
            END AS BIGINT) AS `r_score`,
            CAST(FLOOR(
              (
                (
                  RANK() OVER (ORDER BY `t40`.`n` ASC NULLS LAST) - 1
                ) * 5
              ) / (
                COUNT(*) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
              )
            ) AS BIGINT) + 1 AS `f_score`,
            CAST(FLOOR(
              (
                (
                  RANK() OVER (ORDER BY `t40`.`money` ASC NULLS LAST) - 1
                ) * 5
              ) / (
                COUNT(*) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
              )
            ) AS BIGINT) + 1 AS `m_score`
          FROM (
            SELECT
              `t18`.`pid`,
              CAST(FLOOR(
                (
                  DATEDIFF(
                    MICROSECOND,
                    CAST('1970-01-01T00:00:00+00:00' AS TIMESTAMP),
                    CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
                  ) - DATEDIFF(MICROSECOND, CAST('1970-01-01T00:00:00+00:00' AS TIMESTAMP), `t18`.`last_order_at`)
                ) / (
                  86400000000
                )
              ) AS BIGINT) AS `days`,
              `t18`.`orders_count` AS `n`,
              `t18`.`revenue_total` AS `money`,
              `t38`.`at_risk_days`,
              `t38`.`lapsed_days`,
              `t38`.`churned_days`,
              `t38`.`recent_days`
            FROM (
              SELECT
                `t6`.`pid`,
                COUNT(*) AS `orders_count`,
                COALESCE(SUM(`t6`.`revenue`), 0) AS `revenue_total`,
                MIN(`t6`.`ts`) AS `first_order_at`,
                MAX(`t6`.`ts`) AS `last_order_at`,
                SUM(CAST(`t6`.`ts` > CAST('2026-09-02T00:00:00+00:00' AS TIMESTAMP) AS BIGINT)) AS `orders_60d`,
                SUM(
                  CAST((
                    `t6`.`ts` > CAST('2026-07-04T00:00:00+00:00' AS TIMESTAMP)
                  )
                  AND (
                    `t6`.`ts` <= CAST('2026-09-02T00:00:00+00:00' AS TIMESTAMP)
                  ) AS BIGINT)
                ) AS `orders_prior_60d`
              FROM `t4` AS `t6`
              GROUP BY
                1
            ) AS `t18`
            LEFT SEMI JOIN `t10` AS `t14`
              ON `t18`.`pid` = `t14`.`pid`
            CROSS JOIN (
              SELECT
                IF(`t29`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t29`.`q_at_risk`) AS BIGINT), 1), 90) AS `at_risk_days`,
                GREATEST(
                  IF(`t29`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t29`.`q_lapsed`) AS BIGINT), 1), 180),
                  IF(`t29`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t29`.`q_at_risk`) AS BIGINT), 1), 90) + 1
                ) AS `lapsed_days`,
                GREATEST(
                  IF(`t29`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t29`.`q_churned`) AS BIGINT), 1), 365),
                  GREATEST(
                    IF(`t29`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t29`.`q_lapsed`) AS BIGINT), 1), 180),
                    IF(`t29`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t29`.`q_at_risk`) AS BIGINT), 1), 90) + 1
                  ) + 1
                ) AS `churned_days`,
                LEAST(
                  IF(`t29`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t29`.`q_recent`) AS BIGINT), 1), 30),
                  IF(`t29`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t29`.`q_at_risk`) AS BIGINT), 1), 90) - 1
                ) AS `recent_days`
              FROM (
                SELECT
                  COUNT(*) AS `n_gaps`,
                  PERCENTILE(`t23`.`gap`, 0.75) AS `q_at_risk`,
                  PERCENTILE(`t23`.`gap`, 0.9) AS `q_lapsed`,
                  PERCENTILE(`t23`.`gap`, 0.97) AS `q_churned`,
                  PERCENTILE(`t23`.`gap`, 0.5) AS `q_recent`
                FROM `t21` AS `t23`
              ) AS `t29`
            ) AS `t38`
          ) AS `t40`
        ) AS `t45`
      ) AS `t49`
        ON `t47`.`pid` = `t49`.`pid`
    ) AS `t50`
  ) AS `t51`
) AS `t52`
WHERE
  COALESCE(`t52`.`rfm_segment` = 'Champions', FALSE)
  AND COALESCE(`t52`.`p_alive` > 0.5, FALSE)
  AND COALESCE(`t52`.`lifecycle_stage` <> 'churned', FALSE)
  AND COALESCE(`t52`.`days_since_last_seen` <= 30, FALSE)
