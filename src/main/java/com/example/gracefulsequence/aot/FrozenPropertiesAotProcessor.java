package com.example.gracefulsequence.aot;

import org.springframework.beans.factory.aot.BeanFactoryInitializationAotContribution;
import org.springframework.beans.factory.aot.BeanFactoryInitializationAotProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.core.env.Environment;
import org.springframework.util.ClassUtils;

/**
 * At build time ({@code process-aot}), keeps the {@link FrozenProperties} with the values
 * the generated bean definitions were decided on, in the jar beside them.
 *
 * @author graceful-sequence contributors
 */
final class FrozenPropertiesAotProcessor implements BeanFactoryInitializationAotProcessor {

	@Override
	public BeanFactoryInitializationAotContribution processAheadOfTime(ConfigurableListableBeanFactory beanFactory) {
		ClassLoader classLoader = (beanFactory.getBeanClassLoader() != null) ? beanFactory.getBeanClassLoader()
				: ClassUtils.getDefaultClassLoader();
		FrozenProperties frozen = FrozenProperties.of(classLoader, beanFactory.getBean(Environment.class));
		return (generationContext, code) -> generationContext.getGeneratedFiles()
			.addResourceFile(FrozenProperties.LOCATION, frozen.toText());
	}

}
