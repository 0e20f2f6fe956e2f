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
)
SELECT
  `t48`.`customer_id`
FROM (
  SELECT
    `t47`.`pid`,
    `t47`.`customer_id`,
    CAST(FLOOR(
      (
        DATEDIFF(
          MICROSECOND,
          CAST('1970-01-01T00:00:00+00:00' AS TIMESTAMP),
          CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
        ) - DATEDIFF(MICROSECOND, CAST('1970-01-01T00:00:00+00:00' AS TIMESTAMP), `t47`.`last_seen`)
      ) / (
        86400000000
      )
    ) AS BIGINT) AS `days_since_last_seen`,
    CASE
      WHEN `t47`.`orders_count` IS NULL
      THEN 'subscriber'
      WHEN CAST(FLOOR(
        (
          DATEDIFF(
            MICROSECOND,
            CAST('1970-01-01T00:00:00+00:00' AS TIMESTAMP),
            CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
          ) - DATEDIFF(MICROSECOND, CAST('1970-01-01T00:00:00+00:00' AS TIMESTAMP), `t47`.`last_order_at`)
        ) / (
          86400000000
        )
      ) AS BIGINT) > `t47`.`churned_days`
      THEN 'churned'
      WHEN CAST(FLOOR(
        (
          DATEDIFF(
            MICROSECOND,
            CAST('1970-01-01T00:00:00+00:00' AS TIMESTAMP),
            CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
          ) - DATEDIFF(MICROSECOND, CAST('1970-01-01T00:00:00+00:00' AS TIMESTAMP), `t47`.`last_order_at`)
        ) / (
          86400000000
        )
      ) AS BIGINT) > `t47`.`lapsed_days`
      THEN 'lapsed'
      WHEN CAST(FLOOR(
        (
          DATEDIFF(
            MICROSECOND,
            CAST('1970-01-01T00:00:00+00:00' AS TIMESTAMP),
            CAST('2026-11-01T00:00:00+00:00' AS TIMESTAMP)
          ) - DATEDIFF(MICROSECOND, CAST('1970-01-01T00:00:00+00:00' AS TIMESTAMP), `t47`.`last_order_at`)
        ) / (
          86400000000
        )
      ) AS BIGINT) > `t47`.`at_risk_days`
      THEN 'at_risk'
      WHEN `t47`.`orders_count` >= `t47`.`loyal_orders`
      THEN 'loyal'
      WHEN `t47`.`orders_count` >= 2
      THEN 'repeat_buyer'
      ELSE 'first_time_buyer'
    END AS `lifecycle_stage`,
    `t47`.`p_alive`,
    `t47`.`rfm_segment`
  FROM (
    SELECT
      `t46`.`pid`,
      `t46`.`customer_id`,
      `t46`.`created_at`,
      `t46`.`first_event_at`,
      `t46`.`last_event_at`,
      `t46`.`email`,
      `t46`.`phone`,
      `t46`.`first_name`,
      `t46`.`last_name`,
      `t46`.`country`,
      `t46`.`region`,
      `t46`.`city`,
      `t46`.`postal_code`,
      `t46`.`gender`,
      `t46`.`birth_date`,
      `t46`.`email_consent`,
      `t46`.`sms_consent`,
      `t46`.`x_attr_0`,
      `t46`.`x_attr_1`,
      `t46`.`x_attr_2`,
      `t46`.`x_attr_3`,
      `t46`.`x_attr_4`,
      `t46`.`x_attr_5`,
      `t46`.`x_attr_6`,
      `t46`.`orders_count`,
      `t46`.`revenue_total`,
      `t46`.`first_order_at`,
      `t46`.`last_order_at`,
      `t46`.`orders_60d`,
      `t46`.`orders_prior_60d`,
      `t46`.`scanned_last`,
      `t46`.`last_seen`,
      `t46`.`p_alive`,
      `t46`.`predicted_orders_365d`,
      `t46`.`predicted_clv_365d`,
      `t46`.`at_risk_days`,
      `t46`.`lapsed_days`,
      `t46`.`churned_days`,
      `t46`.`loyal_orders`,
      `t46`.`r_score`,
      `t46`.`f_score`,
      `t46`.`m_score`,
      `t46`.`rfm_segment`
    FROM (
      SELECT
        `t45`.`pid`,
        `t45`.`customer_id`,
        `t45`.`created_at`,
        `t45`.`first_event_at`,
        `t45`.`last_event_at`,
        `t45`.`email`,
        `t45`.`phone`,
        `t45`.`first_name`,
        `t45`.`last_name`,
        `t45`.`country`,
        `t45`.`region`,
        `t45`.`city`,
        `t45`.`postal_code`,
        `t45`.`gender`,
        `t45`.`birth_date`,
        `t45`.`email_consent`,
        `t45`.`sms_consent`,
        `t45`.`x_attr_0`,
        `t45`.`x_attr_1`,
        `t45`.`x_attr_2`,
        `t45`.`x_attr_3`,
        `t45`.`x_attr_4`,
        `t45`.`x_attr_5`,
        `t45`.`x_attr_6`,
        `t45`.`orders_count`,
        `t45`.`revenue_total`,
        `t45`.`first_order_at`,
        `t45`.`last_order_at`,
        `t45`.`orders_60d`,
        `t45`.`orders_prior_60d`,
        `t45`.`scanned_last`,
        `t45`.`last_seen`,
        `t45`.`p_alive`,
        `t45`.`predicted_orders_365d`,
        `t45`.`predicted_clv_365d`,
        `t38`.`at_risk_days`,
        `t38`.`lapsed_days`,
        `t38`.`churned_days`,
        `t38`.`loyal_orders`,
        `t41`.`pid` AS `pid_right`,
        `t41`.`r_score`,
        `t41`.`f_score`,
        `t41`.`m_score`,
        `t41`.`rfm_segment`
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
          `t43`.`p_alive`,
          `t43`.`predicted_orders_365d`,
          `t43`.`predicted_clv_365d`
        FROM (
          SELECT
            `t42`.`pid`,
            `t42`.`customer_id`,
            `t42`.`created_at`,
            `t42`.`first_event_at`,
            `t42`.`last_event_at`,
            `t42`.`email`,
            `t42`.`phone`,
            `t42`.`first_name`,
            `t42`.`last_name`,
            `t42`.`country`,
            `t42`.`region`,
            `t42`.`city`,
            `t42`.`postal_code`,
            `t42`.`gender`,
            `t42`.`birth_date`,
            `t42`.`email_consent`,
            `t42`.`sms_consent`,
            `t42`.`x_attr_0`,
            `t42`.`x_attr_1`,
            `t42`.`x_attr_2`,
            `t42`.`x_attr_3`,
            `t42`.`x_attr_4`,
            `t42`.`x_attr_5`,
            `t42`.`x_attr_6`,
            `t42`.`orders_count`,
            `t42`.`revenue_total`,
            `t42`.`first_order_at`,
            `t42`.`last_order_at`,
            `t42`.`orders_60d`,
            `t42`.`orders_prior_60d`,
            `t42`.`scanned_last`,
            `t42`.`last_seen`,
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
                `t34`.`pid`,
                `t34`.`customer_id`,
                `t34`.`created_at`,
                `t34`.`first_event_at`,
                `t34`.`last_event_at`,
                `t34`.`email`,
                `t34`.`phone`,
                `t34`.`first_name`,
                `t34`.`last_name`,
                `t34`.`country`,
                `t34`.`region`,
                `t34`.`city`,
                `t34`.`postal_code`,
                `t34`.`gender`,
                `t34`.`birth_date`,
                `t34`.`email_consent`,
                `t34`.`sms_consent`,
                `t34`.`x_attr_0`,
                `t34`.`x_attr_1`,
                `t34`.`x_attr_2`,
                `t34`.`x_attr_3`,
                `t34`.`x_attr_4`,
                `t34`.`x_attr_5`,
                `t34`.`x_attr_6`,
                `t34`.`orders_count`,
                `t34`.`revenue_total`,
                `t34`.`first_order_at`,
                `t34`.`last_order_at`,
                `t34`.`orders_60d`,
                `t34`.`orders_prior_60d`,
                `t34`.`scanned_last`
              FROM (
                SELECT
                  `t31`.`pid`,
                  `t31`.`customer_id`,
                  `t31`.`created_at`,
                  `t31`.`first_event_at`,
                  `t31`.`last_event_at`,
                  `t31`.`email`,
                  `t31`.`phone`,
                  `t31`.`first_name`,
                  `t31`.`last_name`,
                  `t31`.`country`,
                  `t31`.`region`,
                  `t31`.`city`,
                  `t31`.`postal_code`,
                  `t31`.`gender`,
                  `t31`.`birth_date`,
                  `t31`.`email_consent`,
                  `t31`.`sms_consent`,
                  `t31`.`x_attr_0`,
                  `t31`.`x_attr_1`,
                  `t31`.`x_attr_2`,
                  `t31`.`x_attr_3`,
                  `t31`.`x_attr_4`,
                  `t31`.`x_attr_5`,
                  `t31`.`x_attr_6`,
                  `t31`.`orders_count`,
                  `t31`.`revenue_total`,
                  `t31`.`first_order_at`,
                  `t31`.`last_order_at`,
                  `t31`.`orders_60d`,
                  `t31`.`orders_prior_60d`,
                  `t28`.`pid` AS `pid_right`,
                  `t28`.`scanned_last`
                FROM (
                  SELECT
                    `t29`.`pid`,
                    `t29`.`customer_id`,
                    `t29`.`created_at`,
                    `t29`.`first_event_at`,
                    `t29`.`last_event_at`,
                    `t29`.`email`,
                    `t29`.`phone`,
                    `t29`.`first_name`,
                    `t29`.`last_name`,
                    `t29`.`country`,
                    `t29`.`region`,
                    `t29`.`city`,
                    `t29`.`postal_code`,
                    `t29`.`gender`,
                    `t29`.`birth_date`,
                    `t29`.`email_consent`,
                    `t29`.`sms_consent`,
                    `t29`.`x_attr_0`,
                    `t29`.`x_attr_1`,
                    `t29`.`x_attr_2`,
                    `t29`.`x_attr_3`,
                    `t29`.`x_attr_4`,
                    `t29`.`x_attr_5`,
                    `t29`.`x_attr_6`,
                    `t29`.`orders_count`,
                    `t29`.`revenue_total`,
                    `t29`.`first_order_at`,
                    `t29`.`last_order_at`,
                    `t29`.`orders_60d`,
                    `t29`.`orders_prior_60d`
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
                      `t25`.`pid` AS `pid_right`,
                      `t25`.`orders_count`,
                      `t25`.`revenue_total`,
                      `t25`.`first_order_at`,
                      `t25`.`last_order_at`,
                      `t25`.`orders_60d`,
                      `t25`.`orders_prior_60d`
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
                    ) AS `t25`
                      ON `t15`.`pid` = `t25`.`pid`
                  ) AS `t29`
                ) AS `t31`
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
                ) AS `t28`
                  ON `t31`.`pid` = `t28`.`pid`
              ) AS `t34`
            ) AS `t36`
          ) AS `t42`
          LEFT OUTER JOIN `segmint_clv` AS `t3`
            ON `t42`.`pid` = `t3`.`pid`
        ) AS `t43`
      ) AS `t45`
      CROSS JOIN (
        SELECT
          `t35`.`at_risk_days`,
          `t35`.`lapsed_days`,
          `t35`.`churned_days`,
          `t22`.`loyal_orders`
        FROM (
          SELECT
            IF(`t27`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t27`.`q_at_risk`) AS BIGINT), 1), 90) AS `at_risk_days`,
            GREATEST(
              IF(`t27`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t27`.`q_lapsed`) AS BIGINT), 1), 180),
              IF(`t27`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t27`.`q_at_risk`) AS BIGINT), 1), 90) + 1
            ) AS `lapsed_days`,
            GREATEST(
              IF(`t27`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t27`.`q_churned`) AS BIGINT), 1), 365),
              GREATEST(
                IF(`t27`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t27`.`q_lapsed`) AS BIGINT), 1), 180),
                IF(`t27`.`n_gaps` >= 30, GREATEST(CAST(CEIL(`t27`.`q_at_risk`) AS BIGINT), 1), 90) + 1
              ) + 1
            ) AS `churned_days`
          FROM (
            SELECT
              COUNT(*) AS `n_gaps`,
              PERCENTILE(`t21`.`gap`, 0.75) AS `q_at_risk`,
              PERCENTILE(`t21`.`gap`, 0.9) AS `q_lapsed`,
              PERCENTILE(`t21`.`gap`, 0.97) AS `q_churned`
            FROM (
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
            ) AS `t21`
          ) AS `t27`
        ) AS `t35`
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
      ) AS `t38`
      LEFT OUTER JOIN (
        SELECT
          `t32`.`pid`,
          `t32`.`r_score`,
          `t32`.`f_score`,
          `t32`.`m_score`,
          CASE (
              `t32`.`r_score` * 10
            ) + CAST(FLOOR((
              `t32`.`f_score` + `t32`.`m_score` + 1
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
            THEN 'At Risk'
            WHEN 14
            THEN 'Can\'t Lose'
            WHEN 15
            THEN 'Can\'t Lose'
            ELSE NULL
          END AS `rfm_segment`
        FROM (
          SELECT
            `t26`.`pid`,
            CAST(FLOOR(
              (
                (
                  RANK() OVER (ORDER BY `t26`.`days` DESC) - 1
                ) * 5
              ) / (
                COUNT(*) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
              )
            ) AS BIGINT) + 1 AS `r_score`,
            CAST(FLOOR(
              (
                (
                  RANK() OVER (ORDER BY `t26`.`n` ASC NULLS LAST) - 1
                ) * 5
              ) / (
                COUNT(*) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
              )
            ) AS BIGINT) + 1 AS `f_score`,
            CAST(FLOOR(
              (
                (
                  RANK() OVER (ORDER BY `t26`.`money` ASC NULLS LAST) - 1
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
              `t18`.`revenue_total` AS `money`
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
        ) AS `t32`
      ) AS `t41`
        ON `t45`.`pid` = `t41`.`pid`
    ) AS `t46`
  ) AS `t47`
) AS `t48`
WHERE
  COALESCE(`t48`.`rfm_segment` = 'Champions', FALSE)
  AND COALESCE(`t48`.`p_alive` > 0.5, FALSE)
  AND COALESCE(`t48`.`lifecycle_stage` <> 'churned', FALSE)
  AND COALESCE(`t48`.`days_since_last_seen` <= 30, FALSE)
