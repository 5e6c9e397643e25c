package com.example.gracefulsequence.sequence.cluster;

import java.util.List;

import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.beans.factory.config.BeanFactoryPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.support.BeanDefinitionRegistry;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.aot.AbstractAotProcessor;
import org.springframework.core.env.Environment;

/**
 * In local mode, takes the Redis client's beans out before any of them is created: every
 * bean whose type comes from Spring Data Redis or Lettuce (the connection factory, its
 * client resources and their timer thread, the templates, the listener container) and
 * this package's two that use them. Their definitions exist in both modes, since the
 * AOT-processed jar decides every condition at build time, and Spring creates a
 * {@code SmartLifecycle} bean such as the connection factory even when it is lazy; so the
 * switch, read when the instance starts, removes them. A local instance then loads no
 * Redis client at all. Nothing is removed while the build processes the application ahead
 * of time, so that the jar holds the beans cluster mode needs.
 *
 * @author graceful-sequence contributors
 */
final class LocalModeWithoutRedis implements BeanFactoryPostProcessor {

	private static final Logger logger = LoggerFactory.getLogger(LocalModeWithoutRedis.class);

	private static final List<String> REDIS_PACKAGES = List.of("org.springframework.data.redis.", "io.lettuce.");

	private static final List<Class<?>> USING_REDIS = List.of(RedisSequenceStore.class, ClusterOrigin.class);

	private final Environment environment;

	LocalModeWithoutRedis(Environment environment) {
		this.environment = environment;
	}

	@Override
	public void postProcessBeanFactory(ConfigurableListableBeanFactory beanFactory) {
		boolean cluster = Binder.get(this.environment).bind("sequence.cluster.enabled", Boolean.class).orElse(false);
		if (cluster || Boolean.getBoolean(AbstractAotProcessor.AOT_PROCESSING)
				|| !(beanFactory instanceof BeanDefinitionRegistry registry)) {
			return;
		}
		List<String> removed = List.of(beanFactory.getBeanDefinitionNames())
			.stream()
			.filter((name) -> usesRedis(beanFactory.getType(name, false)))
			.toList();
		removed.forEach(registry::removeBeanDefinition);
		logger.debug("Local mode: removed the Redis beans {}", removed);
	}

	private static boolean usesRedis(@Nullable Class<?> type) {
		return type != null && (USING_REDIS.contains(type)
				|| REDIS_PACKAGES.stream().anyMatch((prefix) -> type.getName().startsWith(prefix)));
	}

}
