import { echoConfig } from './vitest.echo.config.ts';

export default echoConfig('firefox');
