/** The admin calibration page (staff are refused: requireLogin('admin')). */
import { applyTranslations, renderTopBar, requireLogin } from './common.ts';

const me = await requireLogin('admin');
renderTopBar(me, 'calibration');
applyTranslations();
