package com.example.gracefulsequence.sequence.cluster;

import java.time.Clock;
import java.util.Map;

import io.lettuce.core.resource.DefaultClientResources;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.beans.factory.support.DefaultListableBeanFactory;
import org.springframework.beans.factory.support.RootBeanDefinition;
import org.springframework.context.aot.AbstractAotProcessor;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;
import org.springframework.data.redis.connection.lettuce.LettuceConnectionFactory;
import org.springframework.data.redis.core.StringRedisTemplate;
import org.springframework.mock.env.MockEnvironment;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link LocalModeWithoutRedis} on bean definitions like those of the jar: in local mode
 * the Redis client's go, and those of the service that use them, before any bean is
 * created; in cluster mode, and while the build processes the application ahead of time,
 * every definition stays.
 *
 * @author graceful-sequence contributors
 */
class LocalModeWithoutRedisTests {

	@AfterEach
	void clearAotProcessing() {
		System.clearProperty(AbstractAotProcessor.AOT_PROCESSING);
	}

	@Test
	void inLocalModeTheRedisClientsBeansAndThoseThatUseThemAreRemovedBeforeAnyIsCreated() {
		DefaultListableBeanFactory beanFactory = jarLikeBeanFactory();
		new LocalModeWithoutRedis(new MockEnvironment()).postProcessBeanFactory(beanFactory);
		assertThat(beanFactory.getBeanDefinitionNames()).containsExactlyInAnyOrder("clock", "clusterSequence");
		assertThat(beanFactory.getSingletonCount()).as("beans created").isZero();
	}

	@Test
	void inClusterModeEveryDefinitionStays() {
		DefaultListableBeanFactory beanFactory = jarLikeBeanFactory();
		new LocalModeWithoutRedis(new MockEnvironment().withProperty("sequence.cluster.enabled", "true"))
			.postProcessBeanFactory(beanFactory);
		assertThat(beanFactory.getBeanDefinitionNames()).hasSize(7);
	}

	@Test
	void theSwitchIsReadAsSpringBootBindsIt() {
		// As the Kubernetes files set it
		MockEnvironment environment = new MockEnvironment();
		environment.getPropertySources()
			.addFirst(new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
					Map.of("SEQUENCE_CLUSTER_ENABLED", "true")));
		DefaultListableBeanFactory beanFactory = jarLikeBeanFactory();
		new LocalModeWithoutRedis(environment).postProcessBeanFactory(beanFactory);
		assertThat(beanFactory.getBeanDefinitionNames()).hasSize(7);
	}

	@Test
	void whileTheBuildProcessesTheApplicationAheadOfTimeEveryDefinitionStays() {
		System.setProperty(AbstractAotProcessor.AOT_PROCESSING, "true");
		DefaultListableBeanFactory beanFactory = jarLikeBeanFactory();
		new LocalModeWithoutRedis(new MockEnvironment()).postProcessBeanFactory(beanFactory);
		assertThat(beanFactory.getBeanDefinitionNames()).as("the jar's definitions, for cluster mode").hasSize(7);
	}

	private static DefaultListableBeanFactory jarLikeBeanFactory() {
		DefaultListableBeanFactory beanFactory = new DefaultListableBeanFactory();
		beanFactory.registerBeanDefinition("lettuceClientResources",
				new RootBeanDefinition(DefaultClientResources.class));
		beanFactory.registerBeanDefinition("redisConnectionFactory",
				new RootBeanDefinition(LettuceConnectionFactory.class));
		beanFactory.registerBeanDefinition("stringRedisTemplate", new RootBeanDefinition(StringRedisTemplate.class));
		beanFactory.registerBeanDefinition("redisSequenceStore", new RootBeanDefinition(RedisSequenceStore.class));
		beanFactory.registerBeanDefinition("clusterOrigin", new RootBeanDefinition(ClusterOrigin.class));
		beanFactory.registerBeanDefinition("clusterSequence", new RootBeanDefinition(ClusterSequence.class));
		beanFactory.registerBeanDefinition("clock", new RootBeanDefinition(Clock.class));
		return beanFactory;
	}

}
